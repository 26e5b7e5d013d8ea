// `npm run evaluate -- [--alpha 0.6,…] [--half-life-hours 720,…] [--from D] [--to D] [--train-fraction 0.8]
// [--params FILE] [--fit FILE] [--json]`: replays the attempt log and reports how well each model's
// prediction before an attempt foretells its correctness, on held-out learners (docs/evaluation.md,
// src/services/model-evaluation.ts). The EWMA's other settings (prior, decay floor,
// MASTERY_CONTEXTS, NIGHTLY_CRON, JOBS_TZ) are the jobs' configuration; the live model starts from
// the server's parameters file and --fit writes what the training learners tuned.
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { loadConfig } from './config.ts';
import { openDatabase } from './db/client.ts';
import { isDay } from './domain/calendar.ts';
import type { PredictionScore } from './domain/evaluation.ts';
import { UsageError } from './errors.ts';
import { cronSlots } from './jobs/slots.ts';
import {
  learnerModelParametersPath,
  loadLearnerModelParameters,
  writeLearnerModelParameters,
} from './learner-model-config.ts';
import {
  type EvaluationProgress,
  type EvaluationReport,
  evaluateModels,
  type ModelScore,
} from './services/model-evaluation.ts';

export const evaluateUsage = `  evaluate [--alpha 0.6[,0.4,…]] [--half-life-hours 720[,360,…]]
           [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--train-fraction 0.8] [--params FILE] [--fit FILE] [--json]
                                 replay the attempt log: AUC, log-loss, RMSE and calibration on held-out
                                 learners of the live learner model (fitted on the others), the stored
                                 predictedCorrect, the EWMA mastery (each α × half-life), an EWMA per
                                 attempt, Elo, Elo with offsets, BKT and the stored masteryAtAttempt;
                                 attempts before --from only warm the models up; --fit writes
                                 the tuned parameters (the server reads LEARNER_MODEL_PARAMS,
                                 default $DATA_DIR/learner-model.json)`;

function numbers(name: string, text: string, valid: (n: number) => boolean, what: string): number[] {
  const values = text.split(',').map((part) => Number(part.trim()));
  if (values.some((v) => !Number.isFinite(v) || !valid(v))) {
    throw new UsageError(`--${name} takes a comma-separated list of ${what}, not ${JSON.stringify(text)}`);
  }
  return values;
}

const valueOptions = new Set([
  '--alpha',
  '--half-life-hours',
  '--from',
  '--to',
  '--train-fraction',
  '--params',
  '--fit',
]);

function parseEvaluateArgs(raw: string[]) {
  // A negative number after an option is its value (`--half-life-hours -3`), refused below with a
  // sentence that says what the option takes, not parseArgs' three-line "ambiguous" advice.
  const args = raw.flatMap((arg, k) => {
    if (valueOptions.has(raw[k - 1]!) && /^-[\d.]/.test(arg)) return [];
    if (valueOptions.has(arg) && /^-[\d.]/.test(raw[k + 1] ?? '')) return [`${arg}=${raw[k + 1]}`];
    return [arg];
  });
  try {
    return parseArgs({
      args,
      options: {
        alpha: { type: 'string' },
        'half-life-hours': { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        'train-fraction': { type: 'string' },
        params: { type: 'string' },
        fit: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    }).values;
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]!);
  }
}

/** A progress bar on a terminal (stderr), plain lines otherwise; nothing on stdout. */
function progressReporter(): { report: (p: EvaluationProgress) => void; stop: () => void } {
  if (process.stderr.isTTY !== true) {
    let lastRead = -1;
    return {
      report: (p) => {
        if (p.phase !== 'read') process.stderr.write(`  ${p.phase}: ${p.step}\n`);
        else if (p.attemptsRead !== lastRead) {
          lastRead = p.attemptsRead;
          process.stderr.write(`  ${p.attemptsRead.toLocaleString('en')} attempts read\n`);
        }
      },
      stop: () => {},
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: '{phase} |{bar}| {value}/{total} attempts | {step}', hideCursor: true, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    report: (p) => {
      if (!started) {
        bar.start(p.phase === 'read' ? p.attemptsTotal : 0, 0, { phase: p.phase, step: '' });
        started = true;
      }
      if (p.phase === 'read') bar.update(p.attemptsRead, { phase: 'reading', step: '' });
      else bar.update({ phase: p.phase, step: p.step });
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
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
      throw new UsageError(`--${name} ${values[name]} is not a day (YYYY-MM-DD)`);
  }
  if (values.from && values.to && values.from > values.to)
    throw new UsageError(`--from ${values.from} is after --to ${values.to}`);
  const trainFraction = values['train-fraction'] === undefined ? 0.8 : Number(values['train-fraction']);
  if (!(trainFraction >= 0 && trainFraction < 1))
    throw new UsageError(
      '--train-fraction takes the share of learners to fit on, in [0, 1), ' +
        `not ${JSON.stringify(values['train-fraction'])}`,
    );
  if (values.fit === '') throw new UsageError('--fit takes the file to write the fitted parameters to');
  const learnerModel = values.params
    ? await loadLearnerModelParameters(values.params, { required: true })
    : await loadLearnerModelParameters(learnerModelParametersPath());

  const db = await openDatabase(config.database, { migrate: false });
  const progress = progressReporter();
  let report: EvaluationReport;
  try {
    report = await evaluateModels(db.prisma, {
      alphas,
      halfLivesHours,
      mastery: jobs.mastery,
      masteryContexts: jobs.masteryContexts,
      nightlySlots: (after, until) => cronSlots(jobs.nightlyCron, jobs.timezone, after, until, Number.MAX_SAFE_INTEGER),
      timezone: jobs.timezone,
      from: values.from,
      to: values.to,
      learnerModel,
      trainFraction,
      onProgress: progress.report,
    });
  } finally {
    progress.stop();
    await db.close();
  }
  if (values.fit) {
    await writeLearnerModelParameters(values.fit, {
      parameters: report.learnerModel,
      fittedAt: new Date().toISOString(),
      fittedOn: {
        attempts: report.attemptsReplayed,
        learners: report.learners,
        trainingLearners: report.trainingLearners,
      },
    });
    process.stderr.write(`fitted parameters written to ${values.fit}\n`);
  }
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
}

const fixed = (value: number | null, digits = 4) => (value === null ? '—' : value.toFixed(digits));

const count = (n: number) => n.toLocaleString('en');

/** Parameters shown in the table (the live model's full set is in --json and the --fit file). */
function shownParameters({ model, parameters }: ModelScore): string {
  if (model === 'LIVE') return 'fitted on the training learners';
  if (model === 'LIVE_NIGHTLY') return 'tables refitted nightly, as on a new server';
  if (model === 'PREDICTED' || model === 'STORED') return '(as recorded)';
  // Twelve significant digits: tuned constants are products of multipliers (0.8·1.5 = 1.2000000000000002).
  return Object.entries(parameters)
    .map(([k, v]) => `${k}=${Number(v.toPrecision(12))}`)
    .join(' ');
}

export function formatReport(report: EvaluationReport): string {
  const lines = [
    `${count(report.attemptsReplayed)} attempts replayed (${count(report.learners)} learners: ` +
      `${count(report.trainingLearners)} training, ${count(report.heldOutLearners)} held out), ` +
      `${count(report.attemptsScored)} scored (held-out learners only)`,
    '',
    '| model | parameters | attempts | AUC | log-loss | RMSE | worst calibration gap |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const m of report.models) {
    const { score } = m;
    lines.push(
      `| ${m.model} | ${shownParameters(m)} | ${count(score.attempts)} | ${fixed(score.auc)} | ` +
        `${fixed(score.logLoss)} | ${fixed(score.rmse)} | ${fixed(score.worstCalibrationGap, 3)} |`,
    );
  }
  const live = report.models.find((m) => m.model === 'LIVE');
  if (live) lines.push('', 'Calibration of the live model:', ...calibration(live.score));
  const best = report.models.find((m) => m.model === 'EWMA');
  if (best)
    lines.push('', `Calibration of the best EWMA (by log-loss): ${shownParameters(best)}`, ...calibration(best.score));
  lines.push(
    '',
    'Live model parameters fitted on the training learners:',
    ...Object.entries(report.learnerModel).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`),
  );
  return `${lines.join('\n')}\n`;
}

function calibration(score: PredictionScore): string[] {
  return [
    '| predicted | attempts | mean predicted | observed accuracy |',
    '| --- | ---: | ---: | ---: |',
    ...score.calibration.map(
      (bin) =>
        `| ${bin.from.toFixed(1)}–${bin.to.toFixed(1)} | ${count(bin.attempts)} | ${fixed(bin.meanPredicted, 3)} | ` +
        `${fixed(bin.observedAccuracy, 3)} |`,
    ),
  ];
}
