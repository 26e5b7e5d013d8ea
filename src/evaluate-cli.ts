// `npm run evaluate -- [--alpha 0.4,0.6,0.8] [--half-life-hours 360,720] [--from D] [--to D] [--json]`:
// replays the attempt log and reports how well each model's prediction before an attempt foretells
// its correctness (SPEC 4.4, src/services/model-evaluation.ts). The EWMA's other settings (prior,
// decay floor, MASTERY_CONTEXTS, NIGHTLY_CRON, JOBS_TZ) are the jobs' configuration.
import { parseArgs } from 'node:util';
import { loadConfig } from './config.ts';
import { openDatabase } from './db/client.ts';
import { isDay } from './domain/calendar.ts';
import type { PredictionScore } from './domain/evaluation.ts';
import { type EvaluationReport, evaluateModels } from './services/model-evaluation.ts';

export const evaluateUsage = `  evaluate [--alpha 0.6[,0.4,…]] [--half-life-hours 720[,360,…]]
           [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--json]
                                 replay the attempt log: AUC, log-loss, RMSE and calibration of the
                                 EWMA mastery (each α × half-life), an Elo baseline and the stored
                                 masteryAtAttempt; attempts before --from only warm the models up`;

export class EvaluateUsageError extends Error {}

function numbers(name: string, text: string, valid: (n: number) => boolean, what: string): number[] {
  const values = text.split(',').map((part) => Number(part.trim()));
  if (values.some((v) => !Number.isFinite(v) || !valid(v))) {
    throw new EvaluateUsageError(`--${name} takes a comma-separated list of ${what}, not ${JSON.stringify(text)}`);
  }
  return values;
}

/** `--half-life-hours -3`: a value that looks like an option is the option's (parseArgs calls it ambiguous). */
function joinDashedValues(args: string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const next = args[i + 1];
    if (args[i]!.startsWith('--') && !args[i]!.includes('=') && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${args[i]}=${next}`);
      i++;
    } else joined.push(args[i]!);
  }
  return joined;
}

function parseEvaluateArgs(args: string[]) {
  try {
    return parseArgs({
      args: joinDashedValues(args),
      options: {
        alpha: { type: 'string' },
        'half-life-hours': { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    }).values;
  } catch (error) {
    throw new EvaluateUsageError((error as Error).message);
  }
}

export async function evaluateCommand(args: string[]): Promise<void> {
  const values = parseEvaluateArgs(args);
  const config = loadConfig();
  const jobs = config.jobs;
  const alphas = values.alpha
    ? numbers('alpha', values.alpha, (a) => a > 0 && a <= 1, 'weights in (0, 1]')
    : [jobs.mastery.alpha];
  const halfLivesHours = values['half-life-hours']
    ? numbers('half-life-hours', values['half-life-hours'], (h) => h > 0, 'positive hours')
    : [jobs.mastery.halfLifeHours];
  for (const name of ['from', 'to'] as const) {
    if (values[name] !== undefined && !isDay(values[name]))
      throw new EvaluateUsageError(`--${name} ${values[name]} is not a day (YYYY-MM-DD)`);
  }
  if (values.from && values.to && values.from > values.to)
    throw new EvaluateUsageError(`--from ${values.from} is after --to ${values.to}`);

  const db = await openDatabase(config.database, { migrate: false });
  try {
    const report = await evaluateModels(db.prisma, {
      alphas,
      halfLivesHours,
      mastery: jobs.mastery,
      masteryContexts: jobs.masteryContexts,
      nightlyCron: jobs.nightlyCron,
      timezone: jobs.timezone,
      from: values.from,
      to: values.to,
      onProgress: (read) => process.stderr.write(`  ${read.toLocaleString('en')} attempts read\n`),
    });
    process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  } finally {
    await db.close();
  }
}

const fixed = (value: number | null, digits = 4) => (value === null ? '—' : value.toFixed(digits));

export function formatReport(report: EvaluationReport): string {
  const lines = [
    `${report.attemptsReplayed.toLocaleString('en')} attempts replayed ` +
      `(${report.learners.toLocaleString('en')} learners), ${report.attemptsScored.toLocaleString('en')} scored`,
    '',
    '| model | parameters | attempts | AUC | log-loss | RMSE |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const { model, parameters, score } of report.models) {
    const shown =
      Object.entries(parameters)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ') || '(as recorded)';
    lines.push(
      `| ${model} | ${shown} | ${score.attempts.toLocaleString('en')} | ` +
        `${fixed(score.auc)} | ${fixed(score.logLoss)} | ${fixed(score.rmse)} |`,
    );
  }
  const best = report.models.find((m) => m.model === 'EWMA');
  if (best)
    lines.push(
      '',
      `Calibration of the best EWMA (by log-loss): ${Object.entries(best.parameters)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}`,
      ...calibration(best.score),
    );
  return `${lines.join('\n')}\n`;
}

function calibration(score: PredictionScore): string[] {
  return [
    '| predicted | attempts | mean predicted | observed accuracy |',
    '| --- | ---: | ---: | ---: |',
    ...score.calibration.map(
      (bin) =>
        `| ${bin.from.toFixed(1)}–${bin.to.toFixed(1)} | ${bin.attempts.toLocaleString('en')} | ` +
        `${fixed(bin.meanPredicted, 3)} | ${fixed(bin.observedAccuracy, 3)} |`,
    ),
  ];
}
