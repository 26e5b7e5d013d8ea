// SPEC 4.4 — `npm run evaluate` over a stored log: the replayed EWMA predicts with exactly the scores
// the NIGHTLY runs stored, only the attempts from --from on are scored, and bad options are refused.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { openDatabase } from '../../src/db/client.ts';
import { defaultLearnerModelParameters } from '../../src/domain/learner-model.ts';
import { runJob } from '../../src/jobs/run.ts';
import { cronSlots } from '../../src/jobs/slots.ts';
import { loadLearnerModelParameters } from '../../src/learner-model-config.ts';
import { type EvaluationReport, evaluateModels } from '../../src/services/model-evaluation.ts';
import { type CommandDatabase, commandDatabase } from '../support/commands.ts';
import { type AttemptSpec, at, createLearners, createQuestions, insertAttempts, testJobsConfig } from './support.ts';

const config = testJobsConfig();
let commands: CommandDatabase;
/** The attempts of the scored day, 2025-03-03. */
let scoredDay: AttemptSpec[];

beforeAll(async () => {
  commands = await commandDatabase('evaluate');
  const db = await openDatabase(commands.database);
  try {
    const q = await createQuestions(db, [
      { externalId: 'A1', subcategory: 'Algebra' },
      { externalId: 'A2', subcategory: 'Algebra' },
      { externalId: 'G1', subcategory: 'Geometry' },
    ]);
    const users = await createLearners(db, ['Ann', 'Ben']);
    const [ann, ben] = [users.get('Ann')!, users.get('Ben')!];
    const [a1, a2, g1] = [q.get('A1')!, q.get('A2')!, q.get('G1')!];
    await insertAttempts(db, [
      { userId: ann, questionId: a1, correct: true, recordedAt: at('2025-03-01T09:00:00Z') },
      { userId: ann, questionId: a2, correct: true, hintUsed: true, recordedAt: at('2025-03-01T09:01:00Z') },
      { userId: ann, questionId: g1, correct: false, recordedAt: at('2025-03-01T09:02:00Z') },
      { userId: ben, questionId: a1, correct: false, recordedAt: at('2025-03-01T18:00:00Z') },
      // At the same instant:
      { userId: ben, questionId: g1, correct: true, context: 'PRACTICE', recordedAt: at('2025-03-01T18:00:00Z') },
      { userId: ann, questionId: a1, correct: false, recordedAt: at('2025-03-02T09:00:00Z') },
      { userId: ben, questionId: g1, correct: true, recordedAt: at('2025-03-02T19:00:00Z') },
    ]);
    for (const [date, slot] of [
      ['2025-03-01', '2025-03-02T02:00:00Z'],
      ['2025-03-02', '2025-03-03T02:00:00Z'],
    ] as const) {
      expect((await runJob(db, config, { job: 'NIGHTLY', date, at: at(slot) })).outcome).toBe('succeeded');
    }
    scoredDay = [
      { userId: ann, questionId: a1, correct: true, recordedAt: at('2025-03-03T09:00:00Z'), masteryAtAttempt: 0.7 },
      { userId: ann, questionId: g1, correct: true, recordedAt: at('2025-03-03T09:01:00Z') },
      { userId: ben, questionId: a2, correct: false, recordedAt: at('2025-03-03T20:00:00Z') },
      { userId: ben, questionId: g1, correct: false, recordedAt: at('2025-03-03T20:01:00Z') },
    ];
    await insertAttempts(db, scoredDay);
  } finally {
    await db.close();
  }
});
afterAll(async () => commands?.destroy());

const evaluate = (...args: string[]) => commands.run('evaluate', ...args);

test('the replayed EWMA predicts each scored attempt with the score the NIGHTLY runs stored', async () => {
  const db = await openDatabase(commands.database);
  let report: EvaluationReport;
  let stored: Map<string, number>;
  let subcategoryOf: Map<string, string>;
  try {
    report = await evaluateModels(db.prisma, {
      alphas: [config.mastery.alpha],
      halfLivesHours: [config.mastery.halfLifeHours],
      mastery: config.mastery,
      masteryContexts: config.masteryContexts,
      nightlySlots: (after, until) => cronSlots(config.nightlyCron, 'UTC', after, until, Number.MAX_SAFE_INTEGER),
      timezone: 'UTC',
      from: '2025-03-03',
      learnerModel: defaultLearnerModelParameters,
      trainFraction: 0, // everyone held out: the EWMA is checked on every scored attempt
      pageSize: 4, // several pages, the first ending between Ben's two attempts of the same instant
    });
    stored = new Map((await db.prisma.mastery.findMany()).map((m) => [`${m.userId}|${m.subcategory}`, m.score]));
    subcategoryOf = new Map((await db.prisma.question.findMany()).map((q) => [q.id, q.subcategory]));
  } finally {
    await db.close();
  }
  expect(report).toMatchObject({ attemptsReplayed: 11, attemptsScored: 4, learners: 2 });
  // Ann/Algebra, Ann/Geometry, Ben/Algebra and Ben/Geometry were all scored by the two runs.
  const predictions = scoredDay.map((a) => stored.get(`${a.userId}|${subcategoryOf.get(a.questionId)}`)!);
  expect(predictions.every((p) => typeof p === 'number')).toBe(true);
  const logLoss =
    -scoredDay.reduce((sum, a, i) => sum + Math.log(a.correct ? predictions[i]! : 1 - predictions[i]!), 0) /
    scoredDay.length;
  const ewma = report.models.find((m) => m.model === 'EWMA')!;
  expect(ewma.parameters).toEqual({ alpha: 0.6, halfLifeHours: 720 });
  expect(ewma.score.attempts).toBe(4);
  expect(ewma.score.logLoss).toBeCloseTo(logLoss, 12);
  expect(report.models.map((m) => m.model)).toEqual([
    'LIVE',
    'LIVE_NIGHTLY',
    'PREDICTED',
    'EWMA',
    'ATTEMPT_EWMA',
    'ELO',
    'ELO_OFFSETS',
    'BKT',
    'STORED',
  ]);
  expect(report.models.find((m) => m.model === 'STORED')!.score).toMatchObject({
    attempts: 1,
    rmse: expect.closeTo(0.3, 12),
  });
});

test('the stored predictedCorrect is scored as recorded, where the column exists', async () => {
  const db = await openDatabase(commands.database);
  try {
    // The column comes with the live model's migration; a log from before it has none (read as null).
    await db.prisma.$executeRawUnsafe(
      'ALTER TABLE attempts ADD COLUMN IF NOT EXISTS predicted_correct double precision',
    );
    await db.prisma.$executeRawUnsafe(
      `UPDATE attempts SET predicted_correct = 0.8 WHERE recorded_at >= '2025-03-03T00:00:00Z'`,
    );
    const report = await evaluateModels(db.prisma, {
      alphas: [config.mastery.alpha],
      halfLivesHours: [config.mastery.halfLifeHours],
      mastery: config.mastery,
      masteryContexts: config.masteryContexts,
      nightlySlots: (after, until) => cronSlots(config.nightlyCron, 'UTC', after, until, Number.MAX_SAFE_INTEGER),
      timezone: 'UTC',
      learnerModel: defaultLearnerModelParameters,
      trainFraction: 0,
    });
    const predicted = report.models.find((m) => m.model === 'PREDICTED')!;
    // The scored day's outcomes: right, right, wrong, wrong.
    expect(predicted.score.attempts).toBe(4);
    expect(predicted.score.rmse).toBeCloseTo(Math.sqrt((0.04 + 0.04 + 0.64 + 0.64) / 4), 12);
    expect(report.models.find((m) => m.model === 'LIVE')!.score.attempts).toBe(11);
  } finally {
    await db.prisma.$executeRawUnsafe('UPDATE attempts SET predicted_correct = NULL');
    await db.close();
  }
});

test('npm run evaluate prints the table on held-out learners, valid JSON, and writes --fit', async () => {
  const table = await evaluate('--alpha', '0.6,0.9', '--half-life-hours', '720', '--train-fraction', '0');
  expect(table.code).toBe(0);
  expect(table.stdout).toContain('11 attempts replayed (2 learners: 0 training, 2 held out), 11 scored');
  expect(table.stdout).toMatch(/\| LIVE \| fitted on the training learners \| 11 \| [\d.]+ \| [\d.]+ \| [\d.]+ \|/);
  expect(table.stdout).toMatch(/\| LIVE_NIGHTLY \| tables refitted nightly, as on a new server \| 11 \|/);
  expect(table.stdout).toMatch(/\| EWMA \| alpha=0\.6 halfLifeHours=720 \| 11 \| [\d.]+ \| [\d.]+ \| [\d.]+ \|/);
  expect(table.stdout).toMatch(/\| EWMA \| alpha=0\.9 halfLifeHours=720 \| 11 \|/);
  // No training learner: the attempt EWMA keeps the grid's first α, Elo with offsets its starting constants.
  expect(table.stdout).toMatch(/\| ATTEMPT_EWMA \| alpha=0\.02 \| 11 \| [\d.]+ \| [\d.]+ \| [\d.]+ \|/);
  expect(table.stdout).toMatch(/\| ELO \| a=0\.8 b=0\.05 \| 11 \|/);
  const offsets = 'ability.a=0.8 ability.k=0.05 offset.a=0.4 offset.k=0.05 difficulty.a=0.8 difficulty.k=0.05';
  expect(table.stdout).toContain(`| ELO_OFFSETS | ${offsets} | 11 |`);
  expect(table.stdout).toMatch(/\| BKT \| subcategories=2 \| 11 \|/);
  expect(table.stdout).toContain('Calibration of the live model');

  // The default split: each learner lands on one side by the hash of their id, every model scored there.
  const fitFile = path.join(await mkdtemp(path.join(tmpdir(), 'evaluate-')), 'learner-model.json');
  const json = await evaluate('--json', '--fit', fitFile);
  expect(json.code).toBe(0);
  const report = JSON.parse(json.stdout) as EvaluationReport;
  expect(report).toMatchObject({ attemptsReplayed: 11, learners: 2, trainFraction: 0.8 });
  expect(report.trainingLearners + report.heldOutLearners).toBe(2);
  for (const m of report.models.filter((m) => m.model !== 'PREDICTED' && m.model !== 'STORED'))
    expect(m.score.attempts).toBe(report.attemptsScored);
  expect(await loadLearnerModelParameters(fitFile, { required: true })).toEqual(report.learnerModel);
}, 90_000);

test('bad options exit 2 with one clear line', async () => {
  const bad = await evaluate('--alpha', '2');
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('--alpha takes a comma-separated list of weights in (0, 1]');
  const negative = await evaluate('--half-life-hours', '-3');
  expect(negative.code).toBe(2);
  const [firstLine, ...rest] = negative.stderr.trim().split('\n');
  expect(firstLine).toMatch(/^learnloop: --half-life-hours takes a comma-separated list of positive hours, not "-3"/);
  expect(rest).toEqual([]);
  const fraction = await evaluate('--train-fraction', '1.5');
  expect(fraction.code).toBe(2);
  expect(fraction.stderr).toContain('--train-fraction takes the share of learners to fit on, in [0, 1)');
  const backwards = await evaluate('--from', '2025-03-03', '--to', '2025-03-01');
  expect(backwards.code).toBe(2);
  expect(backwards.stderr).toContain('--from 2025-03-03 is after --to 2025-03-01');
}, 90_000);
