// The command line: `npm start` serves the API; `npm run token -- <email|id>` prints a token;
// `npm run job -- nightly|decay|patterns …` runs a job by hand (src/jobs/cli.ts); `npm run evaluate`
// scores the mastery model on the attempt log (src/evaluate-cli.ts).
import { parseArgs } from 'node:util';
import { developmentSecret, type Role, roles, secretKey, signToken } from './auth.ts';
import { type CommandOutput, captureCommand, openCommandDatabase, setExitCode, stderr, stdout } from './command-io.ts';
import { loadConfig } from './config.ts';
import { type Database, DatabaseConfigError, openDatabase } from './db/client.ts';
import { MigrationError } from './db/migrate.ts';
import { ConfigError, UsageError } from './errors.ts';
import { userGlobalId, userIdOfSubject } from './ids.ts';
import { forwardedCommands, runInHoldingServer } from './server/local-admin.ts';

// A command loads only what it runs (the server, the jobs, the import, the evaluation are imported
// when asked for): `token` or a usage error answers in a fraction of the time the whole app takes to load.
async function usage(): Promise<string> {
  const [{ jobUsage }, { evaluateUsage }, { importUsage }] = await Promise.all([
    import('./jobs/cli.ts'),
    import('./evaluate-cli.ts'),
    import('./import/cli.ts'),
  ]);
  return `usage: learnloop <command>
  serve                          serve the GraphQL API (default)
  token <email|user id> [--role LEARNER|COACH|ADMIN] [--expires 30d]
                                 print a bearer token for a user, its sub the user's id as the
                                 API gives it out (with an id and --role,
                                 without opening the database: works while a server runs)
  export <email|user id>         print all of a learner's data as one JSON document
  erase <email|user id>          delete every row of a learner in one transaction (recorded in
                                 erasures; question statistics and usage counts stay)
  recompute-analytics [--chunk-size 500]
                                 store the summary and analytics of ended sessions that lack
                                 them (imported data); existing rows are left as they are
${jobUsage}
${evaluateUsage}
${importUsage}`;
}

async function serve(): Promise<void> {
  const config = loadConfig();
  const [{ createLogger }, { startService }] = await Promise.all([import('./logger.ts'), import('./service.ts')]);
  const log = createLogger();
  const service = await startService(config, log, { runCommand });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000).unref();
    service.stop().then(
      () => {
        clearTimeout(force);
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

async function token(args: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { expires: { type: 'string', default: '30d' }, role: { type: 'string' } },
  });
  const who = positionals[0];
  if (!who) throw new UsageError('token needs an email or a user id');
  const config = loadConfig();
  const key = secretKey(config.jwtSecret ?? (await developmentSecret(config.dataDir)));
  const sign = (claims: { userId: string; role: Role }) =>
    signToken(key, claims, values.expires).catch(() => {
      throw new UsageError(`--expires ${values.expires} is not a duration: give e.g. 30d, 12h or 90m`);
    });
  const userId = userIdOfSubject(who);
  if (values.role !== undefined) {
    // With an id and a role no lookup is needed: this works while a server holds the embedded database.
    if (!roles.includes(values.role as Role)) throw new UsageError(`--role must be one of ${roles.join(', ')}`);
    if (!userId) throw new UsageError('--role goes with a user id, not an email');
    stdout.write(`${await sign({ userId: userGlobalId(userId), role: values.role as Role })}\n`);
    return;
  }
  const db = await openCommandDatabase(config.database, { migrate: false });
  try {
    const user = await db.prisma.user.findFirst({ where: userId ? { id: userId } : { email: who.toLowerCase() } });
    if (!user) throw new UsageError(`no user ${who}`);
    stdout.write(`${await sign({ userId: userGlobalId(user.id), role: user.role as Role })}\n`);
  } finally {
    await db.close();
  }
}

async function recomputeAnalytics(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { 'chunk-size': { type: 'string', default: '500' } } });
  const chunkSize = Number(values['chunk-size']);
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new UsageError('--chunk-size must be a positive integer');
  const db = await openDatabase(loadConfig().database);
  try {
    const started = Date.now();
    let total = 0;
    const { recomputeMissingSessionAnalytics } = await import('./services/recompute-analytics.ts');
    const result = await recomputeMissingSessionAnalytics(db, {
      chunkSize,
      onStart: (count) => {
        total = count;
        process.stderr.write(`${count} ended session${count === 1 ? ' lacks' : 's lack'} a summary or analytics\n`);
      },
      onChunk: (p) => process.stderr.write(`  ${p.sessions}/${total} sessions (chunk ${p.chunks})\n`),
    });
    process.stdout.write(
      `recompute-analytics: ${result.sessions} sessions in ${result.chunks} chunks: ` +
        `${result.summaries} summaries and ${result.analytics} analytics stored (${Date.now() - started} ms)\n`,
    );
  } finally {
    await db.close();
  }
}

/** `export <user>` prints the learner's document; `erase <user>` deletes them and prints what went. */
async function learnerData(command: 'export' | 'erase', args: string[]): Promise<void> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  const who = positionals[0];
  if (!who || positionals.length > 1) throw new UsageError(`${command} needs one email or user id`);
  const db = await openCommandDatabase(loadConfig().database);
  try {
    const userId = userIdOfSubject(who);
    const user = await db.prisma.user.findFirst({
      where: userId ? { id: userId } : { email: who.toLowerCase() },
      select: { id: true },
    });
    if (!user) throw new UsageError(`no user ${who} (erased already, or never there)`);
    const { eraseLearner, exportLearner } = await import('./services/erasure.ts');
    if (command === 'export') {
      stdout.write(`${JSON.stringify(await exportLearner(db, user.id), null, 2)}\n`);
      return;
    }
    const erasure = await eraseLearner(db, user.id, 'cli');
    const counts = Object.entries(erasure.counts).map(([table, n]) => `${table}=${n}`);
    stdout.write(`erased ${who}: ${counts.join(' ')} (erasure ${erasure.id} at ${erasure.erasedAt.toISOString()})\n`);
  } finally {
    await db.close();
  }
}

async function main(argv: string[]): Promise<void> {
  const [command = 'serve', ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve();
    case 'token':
      return token(rest);
    case 'job':
      return (await import('./jobs/cli.ts')).jobCommand(rest);
    case 'export':
      return learnerData('export', rest);
    case 'erase':
      return learnerData('erase', rest);
    case 'recompute-analytics':
      return recomputeAnalytics(rest);
    case 'evaluate':
      return (await import('./evaluate-cli.ts')).evaluateCommand(rest);
    case 'import':
      return (await import('./import/cli.ts')).importCommand(rest);
    case 'rebuild':
      return (await import('./import/cli.ts')).rebuildCommand(rest);
    case 'export-xapi':
      return (await import('./import/cli.ts')).exportXapiCommand(rest);
    case 'help':
    case '--help':
      stdout.write(`${await usage()}\n`);
      return;
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

/** Says what went wrong (one line for an operator's mistake, not a stack trace); returns the exit code. */
function reportFailure(error: unknown): number {
  if (error instanceof UsageError) {
    stderr.write(`learnloop: ${error.message}\n`);
    return 2;
  }
  if (error instanceof ConfigError || error instanceof DatabaseConfigError || error instanceof MigrationError) {
    stderr.write(`learnloop: ${error.message}\n`);
    return 1;
  }
  stderr.write(`learnloop: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return 1;
}

/** A command the CLI asked the running server to run (src/server/local-admin.ts), with its database. */
function runCommand(db: Database, argv: string[]): Promise<CommandOutput> {
  return captureCommand(db, () => main(argv).catch((error: unknown) => setExitCode(reportFailure(error))));
}

/** While a server holds the embedded database, the commands it can run for us run there. */
async function runHere(argv: string[]): Promise<void> {
  const config = forwardedCommands.has(argv[0] ?? '') ? loadConfig() : null;
  if (config?.database.kind === 'pglite' && config.database.dataDir) {
    const key = secretKey(config.jwtSecret ?? (await developmentSecret(config.dataDir)));
    const output = await runInHoldingServer(config.dataDir, key, argv);
    if (output) {
      process.stdout.write(output.stdout);
      process.stderr.write(output.stderr);
      process.exitCode = output.exitCode;
      return;
    }
  }
  await main(argv);
}

runHere(process.argv.slice(2)).catch((error: unknown) => process.exit(reportFailure(error)));
