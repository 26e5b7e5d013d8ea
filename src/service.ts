// Boots Learnloop: configuration → database (migrated) → event bus → HTTP/WebSocket server.
import { developmentSecret, secretKey, signToken } from './auth.ts';
import type { CommandOutput } from './command-io.ts';
import type { AppConfig } from './config.ts';
import { type Database, openDatabase } from './db/client.ts';
import { processDemoHistory } from './demo/history.ts';
import { loadDemoData } from './demo/load.ts';
import { DEMO_LEARNER_EMAIL } from './demo/simulation.ts';
import { userGlobalId } from './ids.ts';
import { createScheduler } from './jobs/scheduler.ts';
import { loadLearnerModelParameters } from './learner-model-config.ts';
import { limitsFromEnv } from './limits.ts';
import type { Logger } from './logger.ts';
import { createEventBus } from './pubsub.ts';
import { dashboardPath } from './server/dashboard.ts';
import { type LocalAdmin, startLocalAdmin } from './server/local-admin.ts';
import { type App, createApp, graphqlPath } from './server.ts';

export interface RunningService {
  url: string;
  db: Database;
  app: App;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  /** Runs a CLI command in this process (for the CLI while this server holds the embedded database). */
  runCommand?(db: Database, argv: string[]): Promise<CommandOutput>;
}

export async function startService(
  config: AppConfig,
  log: Logger,
  options: ServiceOptions = {},
): Promise<RunningService> {
  const learnerModel = await loadLearnerModelParameters();
  const jobs = { ...config.jobs, learnerModel };
  const limits = limitsFromEnv();
  const db = await openDatabase(config.database, { statementTimeoutMs: limits.statementTimeoutMs });
  log.info({ database: db.label }, 'database ready');
  const bus = createEventBus(config.redisUrl, log);
  let localAdmin: LocalAdmin | null = null;
  try {
    const developmentMode = config.jwtSecret === null;
    const key = secretKey(config.jwtSecret ?? (await developmentSecret(config.dataDir)));
    if (config.demoData) {
      const loaded = await loadDemoData(db);
      if (loaded) {
        log.info(loaded, 'demo data loaded into the empty database');
        log.info(await processDemoHistory(db, jobs), 'demo history processed as the scheduler would have');
      }
    }
    const tokens = developmentMode ? await developmentTokens(db, key) : null;
    const app = createApp({
      db,
      pubsub: bus.pubsub,
      log,
      jobs,
      key,
      limits,
      graphiqlToken: tokens?.admin,
      adaptation: { learnerModel, targetSuccess: config.targetSuccess },
      corsOrigins: config.corsOrigins,
      redisState: bus.redisState,
    });
    // The embedded database is this process's alone: the CLI asks it to run its commands.
    const runCommand = options.runCommand;
    localAdmin =
      runCommand && db.kind === 'pglite' && config.database.kind === 'pglite' && config.database.dataDir
        ? await startLocalAdmin({ dataDir: config.dataDir, key, log, run: (argv) => runCommand(db, argv) })
        : null;
    const url = await app.start(config.port, config.host);
    log.info({ url: `${url}${graphqlPath}`, redis: config.redisUrl ? 'on' : 'off' }, 'Learnloop is serving GraphQL');
    if (tokens) printDevelopmentBanner(url, tokens);
    // Scheduled jobs (SCHEDULER=0: none). Missed slots are caught up in the background.
    const scheduler = config.scheduler ? createScheduler(db, jobs, { log, pubsub: bus.pubsub }) : null;
    scheduler?.start();
    return {
      url,
      db,
      app,
      async stop() {
        await localAdmin?.stop();
        await scheduler?.stop();
        await app.stop();
        await bus.close();
        await db.close();
      },
    };
  } catch (error) {
    await localAdmin?.stop();
    await bus.close();
    await db.close();
    throw error;
  }
}

interface DevelopmentTokens {
  admin: string;
  learner: string | null;
  learnerEmail: string | null;
}

async function developmentTokens(db: Database, key: Uint8Array): Promise<DevelopmentTokens> {
  const admin = await db.prisma.user.findFirst({ where: { role: 'ADMIN' }, orderBy: { createdAt: 'asc' } });
  const learner =
    (await db.prisma.user.findUnique({ where: { email: DEMO_LEARNER_EMAIL } })) ??
    (await db.prisma.user.findFirst({ where: { role: 'LEARNER' }, orderBy: [{ createdAt: 'asc' }, { email: 'asc' }] }));
  return {
    // Staff subjects need not be users; the API's own ids are what an identity service would send.
    admin: await signToken(key, { userId: admin ? userGlobalId(admin.id) : 'development-admin', role: 'ADMIN' }),
    learner: learner ? await signToken(key, { userId: userGlobalId(learner.id), role: 'LEARNER' }) : null,
    learnerEmail: learner?.email ?? null,
  };
}

function printDevelopmentBanner(url: string, tokens: DevelopmentTokens): void {
  const dashboard = `${url}${dashboardPath}/#token=`;
  const lines = [
    '',
    `Development mode (no JWT_SECRET): tokens are signed with a secret kept in DATA_DIR.`,
    `GraphiQL: ${url}${graphqlPath}  (opens with the admin token in its headers)`,
    '',
    `Dashboard as the admin:`,
    `  ${dashboard}${tokens.admin}`,
    ...(tokens.learner ? [`Dashboard as ${tokens.learnerEmail}:`, `  ${dashboard}${tokens.learner}`] : []),
    '',
    `Admin token:`,
    `  ${tokens.admin}`,
  ];
  if (tokens.learner) lines.push('', `Learner token (${tokens.learnerEmail}):`, `  ${tokens.learner}`);
  lines.push(
    '',
    `Paste into GraphiQL's headers: { "authorization": "Bearer <token>" }. Any user: npm run token -- <email>`,
    '',
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}
