// The live learner model through the API (issue 11): the prediction recordAttempt stores before
// grading, the learner's state it moves (retries, concurrency), the estimate on Mastery, the plans
// that use it, nextQuestions, and the NIGHTLY replay of late and imported attempts. Every figure is
// held to a replay with the pure model (src/domain/learner-model.ts).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { localDate } from '../../src/domain/calendar.ts';
import {
  addPracticeEvidence,
  answerAfter,
  defaultLearnerModelParameters,
  emptyPracticeAggregate,
  estimate,
  type LearnerAbility,
  type LearnerModelParameters,
  newLearnerAbility,
  newSubcategoryPrior,
  type PreviousAnswer,
  practicePrior,
  predictCorrect,
  refitPracticeOffsets,
  refitQuestionParameters,
  type SkillState,
  updateAfterAttempt,
} from '../../src/domain/learner-model.ts';
import type { DifficultyBand } from '../../src/domain/types.ts';
import { runJob } from '../../src/jobs/run.ts';
import { learnerModelStates, questionParameters, SubcategoryPriors } from '../../src/services/learner-state.ts';
import { replanLearners } from '../../src/services/plans.ts';
import { graphql } from '../gql/index.ts';
import { testJobsConfig } from '../jobs/support.ts';
import { createPerson, createWorld, type Person, rawId, type World } from '../support/fixtures.ts';
import { codesOf, dataOf, startTestServer, type TestServer } from '../support/server.ts';

const RecordModelAttempt = graphql(`
  mutation RecordModelAttempt($input: RecordAttemptInput!) {
    recordAttempt(input: $input) { id correct predictedCorrect masteryAfter recordedAt question { id } }
  }
`);

const StartModelSession = graphql(`
  mutation StartModelSession($input: StartSessionInput) { startSession(input: $input) { id } }
`);

const MyEstimates = graphql(`
  query MyEstimates { me { masteries { subcategory score attemptsCount estimate estimateUpdatedAt } } }
`);

const NextQuestions = graphql(`
  query NextQuestions($sessionId: ID!, $count: Int) {
    nextQuestions(sessionId: $sessionId, count: $count) {
      predictedCorrect reason question { id subcategory difficultyBand }
    }
  }
`);

// Every term of the model switched on, so the write path, the replay and the API all have to feed it.
const model: LearnerModelParameters = {
  ...defaultLearnerModelParameters,
  successWeight: 0.2,
  failureWeight: -0.1,
  repeatWeight: 0.5,
  repeatHalfLifeHours: 6,
  shortRepeatWeight: 1.5,
  shortRepeatHalfLifeHours: 0.05,
  itemSuccessWeight: 0.3,
  itemFailureWeight: -0.2,
  recentWeight: 0.4,
  learnerRecentWeight: 0.3,
  recentWeightK: 0.3,
  questionUncertainty: 2,
  calibrationSlope: 0.9,
  calibrationIntercept: 0.1,
};

let server: TestServer;
let world: World;
let adminToken: string;

beforeAll(async () => {
  server = await startTestServer({ adaptation: { learnerModel: model, targetSuccess: 0.75 } });
  world = await createWorld(server);
  adminToken = world.admin.token;
});
afterAll(async () => server?.stop());

const minute = 60_000;
// Answers two hours back, a minute apart: well inside the API's clock check, far from "now".
const base = Date.now() - 2 * 60 * minute;
const question = (externalId: string) => world.questions.find((q) => q.externalId === externalId)!;
const rightAnswer = (externalId: string) => question(externalId).answer;

async function answer(
  person: Person,
  externalId: string,
  correct: boolean,
  answeredAt: number,
  extra: Record<string, unknown> = {},
) {
  return dataOf(
    await server.request(
      RecordModelAttempt,
      {
        input: {
          questionId: question(externalId).id,
          userAnswer: correct ? rightAnswer(externalId) : 'not it',
          timeSec: 20,
          context: 'PRACTICE',
          answeredAt: new Date(answeredAt).toISOString(),
          clientAttemptId: randomUUID(),
          ...extra,
        },
      },
      person.token,
    ),
  ).recordAttempt;
}

interface ReplayedAttempt {
  subcategory: string;
  band: DifficultyBand;
  questionId: string;
  credit: number;
  atMs: number;
}

/** The pure model over attempts in the order given, with the question parameters stored now. */
async function replay(attempts: readonly ReplayedAttempt[]) {
  const priors = await SubcategoryPriors.load(server.db.prisma);
  const stored = new Map(
    (await server.db.prisma.question.findMany()).map((q) => [
      q.id,
      {
        band: q.difficultyBand,
        difficulty: q.modelDifficulty,
        attempts: q.modelAttempts,
        information: q.modelInformation,
      },
    ]),
  );
  let learner: LearnerAbility = newLearnerAbility();
  const skills = new Map<string, SkillState>();
  const answers = new Map<string, PreviousAnswer>();
  const predictions: number[] = [];
  const estimates: number[] = [];
  for (const a of attempts) {
    const prior = priors.of(a.subcategory);
    const parameters = questionParameters(model, stored.get(a.questionId)!, prior);
    const previous = answers.get(a.questionId) ?? null;
    const update = updateAfterAttempt(
      model,
      learner,
      skills.get(a.subcategory) ?? null,
      parameters,
      prior,
      a.credit,
      a.atMs,
      previous,
    );
    answers.set(a.questionId, answerAfter(answers.get(a.questionId) ?? null, a.credit, a.atMs));
    predictions.push(update.predicted);
    learner = update.learner;
    skills.set(a.subcategory, update.skill);
    estimates.push(estimate(model, learner, update.skill, prior, a.atMs));
  }
  return { learner, skills, predictions, estimates, priors };
}

/** A learner's stored attempts as the replay takes them, in answeredAt order (recordedAt on ties). */
async function storedAttempts(userId: string): Promise<(ReplayedAttempt & { predictedCorrect: number | null })[]> {
  const rows = await server.db.prisma.attempt.findMany({
    where: { userId },
    include: { question: true },
    orderBy: [{ answeredAt: 'asc' }, { recordedAt: 'asc' }, { id: 'asc' }],
  });
  return rows.map((a) => ({
    subcategory: a.question.subcategory,
    band: a.question.difficultyBand,
    questionId: a.questionId,
    credit: !a.correct ? 0 : a.hintUsed ? 0.5 : 1,
    atMs: (a.answeredAt ?? a.recordedAt).getTime(),
    predictedCorrect: a.predictedCorrect,
  }));
}

async function storedState(userId: string) {
  const learner = await server.db.prisma.learnerState.findUnique({ where: { userId } });
  const skills = await server.db.prisma.skillState.findMany({ where: { userId }, orderBy: { subcategory: 'asc' } });
  return { learner, skills };
}

function expectStateToEqual(
  stored: Awaited<ReturnType<typeof storedState>>,
  replayed: Awaited<ReturnType<typeof replay>>,
) {
  expect(stored.learner!.attempts).toBe(replayed.learner.attempts);
  expect(stored.learner!.theta).toBeCloseTo(replayed.learner.theta, 12);
  expect(stored.learner!.recent).toBeCloseTo(replayed.learner.recent, 12);
  expect(stored.learner!.recentWeightOffset).toBeCloseTo(replayed.learner.recentWeightOffset, 12);
  expect(stored.skills.map((s) => s.subcategory)).toEqual([...replayed.skills.keys()].sort());
  for (const skill of stored.skills) {
    const expected = replayed.skills.get(skill.subcategory)!;
    expect(skill.theta).toBeCloseTo(expected.theta, 12);
    expect(skill.attempts).toBe(expected.attempts);
    expect(skill.creditSum).toBe(expected.creditSum);
    expect(skill.lastAttemptAt?.getTime()).toBe(expected.lastAttemptAt);
  }
}

describe('recordAttempt and the live model', () => {
  test('predictedCorrect is made before grading, equals the replayed prediction; masteryAfter too', async () => {
    const carol = await createPerson(server, adminToken, 'Carol Model');
    const dave = await createPerson(server, adminToken, 'Dave Model');
    const history: [string, boolean, boolean?][] = [
      ['ALG-1', true],
      ['ALG-2', false],
      ['GEO-1', true, true],
      ['ALG-3', true],
    ];
    for (const person of [carol, dave]) {
      for (const [i, [externalId, correct, hintUsed]] of history.entries()) {
        await answer(person, externalId, correct, base + i * minute, { hintUsed: hintUsed ?? false });
      }
    }
    // The same state, the same question, the same instant: one answers right, the other wrong.
    const right = await answer(carol, 'GEO-2', true, base + 10 * minute);
    const wrong = await answer(dave, 'GEO-2', false, base + 10 * minute);
    expect([right.correct, wrong.correct]).toEqual([true, false]);
    expect(right.predictedCorrect).toBe(wrong.predictedCorrect);
    expect(right.masteryAfter!).toBeGreaterThan(wrong.masteryAfter!);

    const attempts = await storedAttempts(carol.userId);
    const replayed = await replay(attempts);
    expect(attempts.map((a) => a.predictedCorrect)).toEqual(
      replayed.predictions.map((p) => expect.closeTo(p, 12) as unknown as number),
    );
    expect(right.masteryAfter).toBeCloseTo(replayed.estimates.at(-1)!, 12);
    // The first attempt of a new learner on a new question of a new subcategory: the prior's P.
    const first = attempts[0]!;
    expect(first.predictedCorrect).toBeCloseTo(
      predictCorrect(
        model,
        newLearnerAbility(),
        null,
        questionParameters(
          model,
          { band: 'EASY', difficulty: null, attempts: 0, information: null },
          replayed.priors.of('Algebra'),
        ),
        replayed.priors.of('Algebra'),
        first.atMs,
      ),
      12,
    );
    expectStateToEqual(await storedState(carol.userId), replayed);
  });

  test('a retry (same clientAttemptId) returns the first attempt and changes no state', async () => {
    const erin = await createPerson(server, adminToken, 'Erin Retry');
    await answer(erin, 'ALG-1', true, base);
    const input = {
      questionId: question('ALG-2').id,
      userAnswer: rightAnswer('ALG-2'),
      timeSec: 12,
      context: 'PRACTICE' as const,
      answeredAt: new Date(base + minute).toISOString(),
      clientAttemptId: randomUUID(),
    };
    const first = dataOf(await server.request(RecordModelAttempt, { input }, erin.token)).recordAttempt;
    const before = await storedState(erin.userId);
    const retries = await Promise.all(
      Array.from({ length: 5 }, () => server.request(RecordModelAttempt, { input }, erin.token)),
    );
    for (const retry of retries) expect(dataOf(retry).recordAttempt).toEqual(first);
    expect(await storedState(erin.userId)).toEqual(before);
    expect(before.learner!.attempts).toBe(2);
    expect(before.learner!.version).toBe(2);
  });

  test('concurrent attempts of one learner: every one moves the state the one before left', async () => {
    const finn = await createPerson(server, adminToken, 'Finn Concurrent');
    const ids = ['ALG-1', 'ALG-2', 'ALG-3', 'GEO-1', 'GEO-2', 'GEO-3'];
    // Twelve at once, at one answeredAt: the order they are applied in is the order they commit in.
    const at = base + 30 * minute;
    await Promise.all(Array.from({ length: 12 }, (_, i) => answer(finn, ids[i % ids.length]!, i % 3 !== 0, at)));
    const rows = await server.db.prisma.attempt.findMany({
      where: { userId: finn.userId },
      include: { question: true },
      orderBy: [{ recordedAt: 'asc' }, { id: 'asc' }],
    });
    const attempts = rows.map((a) => ({
      subcategory: a.question.subcategory,
      band: a.question.difficultyBand,
      questionId: a.questionId,
      credit: a.correct ? 1 : 0,
      atMs: a.answeredAt!.getTime(),
    }));
    const replayed = await replay(attempts);
    expect(rows.map((a) => a.predictedCorrect)).toEqual(
      replayed.predictions.map((p) => expect.closeTo(p, 12) as unknown as number),
    );
    const stored = await storedState(finn.userId);
    expect(stored.learner).toMatchObject({ attempts: 12, version: 12, replayFrom: null });
    expectStateToEqual(stored, replayed);
    // The plans read the states as JSON documents: every float and instant exactly as stored.
    const read = (await learnerModelStates(server.db.prisma, [finn.userId])).get(finn.userId)!;
    expect(read.learner).toEqual({
      theta: stored.learner!.theta,
      attempts: stored.learner!.attempts,
      recent: stored.learner!.recent,
      recentWeightOffset: stored.learner!.recentWeightOffset,
    });
    expect([...read.skills.values()]).toEqual(
      stored.skills.map((s) => ({
        subcategory: s.subcategory,
        theta: s.theta,
        attempts: s.attempts,
        creditSum: s.creditSum,
        recent: s.recent,
        lastAttemptAt: s.lastAttemptAt?.getTime() ?? null,
        updatedAt: s.updatedAt,
      })),
    );
  });
});

describe('recordAttempt keeps the state between attempts', () => {
  test('a state changed elsewhere (another instance, NIGHTLY) is read again before it is built on', async () => {
    const kim = await createPerson(server, adminToken, 'Kim Elsewhere');
    await answer(kim, 'ALG-1', true, base);
    await answer(kim, 'ALG-2', false, base + minute);
    // Another instance moves the state: a new ability, the version one further.
    await server.db.prisma.learnerState.update({
      where: { userId: kim.userId },
      data: { theta: { increment: 1 }, version: { increment: 1 } },
    });
    const state = (await learnerModelStates(server.db.prisma, [kim.userId])).get(kim.userId)!;
    const prior = (await SubcategoryPriors.load(server.db.prisma)).of('Algebra');
    const parameters = questionParameters(
      model,
      { band: 'HARD', difficulty: null, attempts: 0, information: null },
      prior,
    );
    const at = base + 2 * minute;
    const next = await answer(kim, 'ALG-3', true, at);
    expect(next.predictedCorrect).toBeCloseTo(
      predictCorrect(model, state.learner, state.skills.get('Algebra')!, parameters, prior, at),
      12,
    );
    const stored = await storedState(kim.userId);
    expect(stored.learner).toMatchObject({ attempts: 3, version: 4 });
  });
});

describe('Mastery.estimate and the plans', () => {
  test('masteries: the live estimate now, forgetting applied, beside the nightly score', async () => {
    const gina = await createPerson(server, adminToken, 'Gina Estimate');
    await answer(gina, 'ALG-1', true, base);
    await answer(gina, 'ALG-2', true, base + minute);
    await answer(gina, 'ALG-3', false, base + 2 * minute);
    const before = Date.now();
    const { me } = dataOf(await server.request(MyEstimates, {}, gina.token));
    const after = Date.now();
    const replayed = await replay(await storedAttempts(gina.userId));
    const skill = replayed.skills.get('Algebra')!;
    const prior = replayed.priors.of('Algebra');
    expect(me!.masteries).toEqual([
      {
        subcategory: 'Algebra',
        score: 0.5,
        attemptsCount: 0,
        estimate: expect.any(Number),
        estimateUpdatedAt: expect.any(String),
      },
    ]);
    // Forgetting moves the estimate between the two instants only in far decimals.
    const estimateNow = me!.masteries[0]!.estimate;
    const [high, low] = [
      estimate(model, replayed.learner, skill, prior, before),
      estimate(model, replayed.learner, skill, prior, after),
    ];
    expect(estimateNow).toBeLessThanOrEqual(high + 1e-12);
    expect(estimateNow).toBeGreaterThanOrEqual(low - 1e-12);
    // Two hours idle: lower than right after the last attempt.
    expect(estimateNow).toBeLessThan(replayed.estimates.at(-1)!);
  });

  test("a plan's mastery is the estimate after the last attempt; practised, unscored: no new area", async () => {
    const hana = await createPerson(server, adminToken, 'Hana Plan');
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await answer(hana, `GEO-${(i % 3) + 1}`, i !== 1, base + i * minute));
    const now = new Date();
    const planDate = localDate(new Date(now.getTime() + 86_400_000), 'UTC');
    await server.db.prisma.$transaction((tx) =>
      replanLearners(tx, [{ userId: hana.userId, planDate }], 'NIGHTLY', { now }),
    );
    const plan = await server.db.prisma.planAdjustment.findFirstOrThrow({
      where: { userId: hana.userId, planDate: new Date(planDate) },
    });
    const units = plan.after as { subcategory: string; reason: string }[];
    // The skill state keeps the last attempt's masteryAfter: no forgetting since, no refitted prior.
    const lastGeometry = answers.at(-1)!.masteryAfter!;
    const skill = await server.db.prisma.skillState.findUniqueOrThrow({
      where: { userId_subcategory: { userId: hana.userId, subcategory: 'Geometry' } },
    });
    expect(skill.planMastery).toBe(lastGeometry);
    expect(units.find((u) => u.subcategory === 'Geometry')!.reason).toMatch(
      new RegExp(`^mastery ${Math.round(lastGeometry * 100)}% — `),
    );
    expect(units.find((u) => u.subcategory === 'Algebra')!.reason).toBe('not practised yet — new area');
  });
});

describe('nextQuestions', () => {
  let ivy: Person;
  let session: string;
  beforeAll(async () => {
    ivy = await createPerson(server, adminToken, 'Ivy Next');
    await answer(ivy, 'ALG-1', true, Date.now() - 10 * minute);
    session = dataOf(await server.request(StartModelSession, { input: { units: ['Algebra'] } }, ivy.token)).startSession
      .id;
  });

  test("from the session's units, nearest the target, the question just answered last; deterministic", async () => {
    const first = dataOf(
      await server.request(NextQuestions, { sessionId: session, count: 5 }, ivy.token),
    ).nextQuestions;
    expect(first.map((p) => p.question.subcategory)).toEqual(['Algebra', 'Algebra', 'Algebra']);
    // ALG-1 was answered ten minutes ago: it comes last, whatever its prediction.
    expect(first.at(-1)!.question.id).toBe(question('ALG-1').id);
    expect(first.at(-1)!.reason).toMatch(/answered recently/);
    const fresh = first.slice(0, 2).map((p) => Math.abs(p.predictedCorrect - 0.75));
    expect(fresh[0]!).toBeLessThanOrEqual(fresh[1]!);
    const again = dataOf(
      await server.request(NextQuestions, { sessionId: session, count: 5 }, ivy.token),
    ).nextQuestions;
    expect(again.map((p) => p.question.id)).toEqual(first.map((p) => p.question.id));
    expect(again.map((p) => p.reason)).toEqual(first.map((p) => p.reason));
    // Predictions are the model's for this learner now.
    const state = (await learnerModelStates(server.db.prisma, [ivy.userId])).get(ivy.userId)!;
    const prior = (await SubcategoryPriors.load(server.db.prisma)).of('Algebra');
    const top = world.questions.find((q) => q.id === first[0]!.question.id)!;
    const parameters = questionParameters(
      model,
      { band: top.difficultyBand as DifficultyBand, difficulty: null, attempts: 0, information: null },
      prior,
    );
    expect(first[0]!.predictedCorrect).toBeCloseTo(
      predictCorrect(model, state.learner, state.skills.get('Algebra')!, parameters, prior, Date.now()),
      4,
    );
  });

  test('without units: the whole bank, subcategories interleaved', async () => {
    const open = dataOf(await server.request(StartModelSession, { input: {} }, ivy.token)).startSession.id;
    const picks = dataOf(await server.request(NextQuestions, { sessionId: open, count: 6 }, ivy.token)).nextQuestions;
    expect(new Set(picks.map((p) => p.question.id)).size).toBe(6);
    for (let i = 1; i < picks.length; i++) {
      expect(picks[i]!.question.subcategory).not.toBe(picks[i - 1]!.question.subcategory);
    }
  });

  test('the learner and staff read them, another learner is FORBIDDEN; answer stays hidden; count 1..50', async () => {
    const own = dataOf(await server.request(NextQuestions, { sessionId: session }, ivy.token)).nextQuestions;
    const coach = dataOf(await server.request(NextQuestions, { sessionId: session }, world.coach.token)).nextQuestions;
    expect(coach.map((p) => p.question.id)).toEqual(own.map((p) => p.question.id));
    const other = await server.request(NextQuestions, { sessionId: session }, world.bob.token);
    expect(codesOf(other)).toEqual(['FORBIDDEN']);
    expect(other.data).toBeNull();

    const withAnswer = await server.request(
      `query($s: ID!) { nextQuestions(sessionId: $s) { question { id answer } } }`,
      { s: session },
      ivy.token,
    );
    expect(codesOf(withAnswer)).toContain('FORBIDDEN');
    for (const q of world.questions.filter((q) => q.subcategory === 'Algebra')) {
      expect(JSON.stringify(withAnswer.data ?? null)).not.toContain(JSON.stringify(q.answer));
    }
    for (const count of [0, 51]) {
      expect(codesOf(await server.request(NextQuestions, { sessionId: session, count }, ivy.token))).toEqual([
        'BAD_USER_INPUT',
      ]);
    }
    const unknown = Buffer.from(`Session:${randomUUID()}`).toString('base64');
    expect(codesOf(await server.request(NextQuestions, { sessionId: unknown }, ivy.token))).toEqual(['NOT_FOUND']);
  });
});

// Last: NIGHTLY refits the questions, which every test above assumes are still at their priors.
describe('NIGHTLY', () => {
  test('late and imported attempts: the state equals a replay in answeredAt order after the next NIGHTLY', async () => {
    const jack = await createPerson(server, adminToken, 'Jack Late');
    await answer(jack, 'ALG-1', true, base);
    await answer(jack, 'GEO-1', false, base + 20 * minute);
    // Synced late: answered between the two above.
    await answer(jack, 'ALG-2', true, base + 10 * minute);
    expect((await storedState(jack.userId)).learner!.replayFrom?.getTime()).toBe(base + 10 * minute);
    // Imported straight into the table: the write path never saw it.
    await server.db.prisma.attempt.create({
      data: {
        userId: jack.userId,
        questionId: rawId(question('ALG-3').id),
        attemptNo: 1,
        context: 'PRACTICE',
        userAnswer: 'imported',
        correct: false,
        timeSec: 30,
        answeredAt: new Date(base + 5 * minute),
        clientAttemptId: randomUUID(),
      },
    });
    const inOrderBefore = await replay(await storedAttempts(jack.userId));
    // Before the run: three attempts applied, one of them out of order; the imported one missing.
    expect((await storedState(jack.userId)).learner!.attempts).toBe(3);
    const run = await runJob(server.db, testJobsConfig({ learnerModel: model }), { job: 'NIGHTLY', at: new Date() });
    expect(run.run.error).toBeNull();
    expect(run.run.stats).toMatchObject({
      learnersReplayed: expect.any(Number),
      questionsRefitted: expect.any(Number),
    });

    const stored = await storedState(jack.userId);
    const replayed = await replay(await storedAttempts(jack.userId));
    expect(stored.learner).toMatchObject({ attempts: 4, replayFrom: null, stateAt: new Date(base + 20 * minute) });
    expectStateToEqual(stored, replayed);
    // Each skill's plan mastery is the replay's estimate right after its last attempt (in answeredAt
    // order: ALG-1, the imported ALG-3, ALG-2, GEO-1).
    const plan = await server.db.prisma.skillState.findMany({
      where: { userId: jack.userId },
      orderBy: { subcategory: 'asc' },
    });
    expect(plan.map((k) => [k.subcategory, k.planMastery])).toEqual([
      ['Algebra', replayed.estimates[2]],
      ['Geometry', replayed.estimates[3]],
    ]);
    // The replay ran with the parameters this NIGHTLY refitted from the attempts' stored predictions.
    const refitted = await server.db.prisma.question.findUniqueOrThrow({ where: { id: rawId(question('ALG-1').id) } });
    // The refit is the domain's, over every attempt with a stored prediction (the first run's window is all).
    const night = await server.db.prisma.attempt.findMany({
      where: { questionId: refitted.id, predictedCorrect: { not: null } },
    });
    const expected = refitQuestionParameters(
      model,
      questionParameters(
        model,
        { band: 'EASY', difficulty: null, attempts: 0, information: null },
        newSubcategoryPrior(),
      ),
      {
        attempts: night.length,
        creditSum: night.reduce((sum, a) => sum + (!a.correct ? 0 : a.hintUsed ? 0.5 : 1), 0),
        predictedSum: night.reduce((sum, a) => sum + a.predictedCorrect!, 0),
        predictedVarianceSum: night.reduce((sum, a) => sum + a.predictedCorrect! * (1 - a.predictedCorrect!), 0),
      },
    );
    expect(refitted.modelAttempts).toBe(expected.attempts);
    expect(refitted.modelDifficulty).toBeCloseTo(expected.difficulty, 9);
    expect(refitted.modelInformation).toBeCloseTo(expected.information, 9);
    expect(replayed.learner.theta).not.toBe(inOrderBefore.learner.theta);

    // The subcategory's PFA offsets: the domain's refit over the same attempts, each with the skill
    // state its prediction saw (the learner's earlier attempts there, in recorded order).
    const { subcategory } = refitted;
    const predicted = await server.db.prisma.attempt.findMany({
      where: { predictedCorrect: { not: null }, question: { subcategory } },
      orderBy: [{ recordedAt: 'asc' }, { id: 'asc' }],
    });
    const evidence = emptyPracticeAggregate();
    const seen = new Map<string, SkillState>();
    for (const a of predicted) {
      const credit = !a.correct ? 0 : a.hintUsed ? 0.5 : 1;
      const before = seen.get(a.userId) ?? null;
      addPracticeEvidence(evidence, model, before, a.predictedCorrect!, credit);
      seen.set(a.userId, {
        theta: 0,
        recent: 0.5,
        lastAttemptAt: null,
        attempts: (before?.attempts ?? 0) + 1,
        creditSum: (before?.creditSum ?? 0) + credit,
      });
    }
    const practice = refitPracticeOffsets(practicePrior(model), evidence);
    const prior = await server.db.prisma.subcategoryPrior.findUniqueOrThrow({ where: { subcategory } });
    expect(seen.size).toBeGreaterThan(1);
    expect(prior.successOffset).not.toBe(0);
    expect(prior.successOffset).toBeCloseTo(practice.successOffset, 9);
    expect(prior.failureOffset).toBeCloseTo(practice.failureOffset, 9);
    expect([prior.practiceInformationSs, prior.practiceInformationSf, prior.practiceInformationFf]).toEqual(
      practice.information.map((v) => expect.closeTo(v, 9)),
    );
    expect(run.run.stats).toMatchObject({ practiceRefitted: expect.any(Number) });
  });
});
