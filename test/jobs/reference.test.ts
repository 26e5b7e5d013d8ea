// The SQL of the NIGHTLY steps against the pure reference functions of src/domain, on generated
// data over four nights (so follow-ups and running sums cross windows).
import { expect, test } from 'vitest';
import { mulberry32 } from '../../src/demo/simulation.ts';
import { attemptCredit, ewmaStep, masteryDefaults, performance } from '../../src/domain/mastery.ts';
import {
  importanceIndices,
  learningImpact,
  pointBiserial,
  questionDifficulty,
} from '../../src/domain/question-stats.ts';
import { runJob } from '../../src/jobs/run.ts';
import { useTestDatabase } from '../support/hooks.ts';
import { type AttemptSpec, createLearners, createQuestions, insertAttempts, testJobsConfig } from './support.ts';

const db = useTestDatabase();

const close = (actual: number | null, expected: number | null) => {
  if (expected === null) expect(actual).toBeNull();
  else {
    expect(actual).not.toBeNull();
    expect(Math.abs(actual! - expected)).toBeLessThan(1e-9);
  }
};

test('EWMA and question statistics equal src/domain/mastery.ts and question-stats.ts', async () => {
  const rand = mulberry32(20250301); // seeded, so a failure can be replayed
  const subcategories = ['Algebra', 'Geometry', 'Reading'];
  const specs = subcategories.flatMap((s) =>
    Array.from({ length: 6 }, (_, i) => ({ externalId: `${s}-${i}`, subcategory: s })),
  );
  const questions = await createQuestions(db, specs);
  const learners = [
    ...(
      await createLearners(
        db,
        Array.from({ length: 14 }, (_, i) => `L${i}`),
      )
    ).values(),
  ];
  const subcategoryOf = new Map(specs.map((s) => [questions.get(s.externalId)!, s.subcategory]));
  const questionIds = [...questions.values()];
  const contexts = ['SESSION', 'SESSION', 'SESSION', 'PRACTICE', 'DAILY'] as const;
  const nights = [1, 2, 3, 4].map((d) => new Date(Date.UTC(2025, 2, d + 1, 2)));
  const config = testJobsConfig();
  const mastery = new Map<string, number>(); // reference EWMA by user/subcategory
  const used = new Set<number>();

  let windowStart = 0;
  for (const night of nights) {
    // ~120 attempts per day at distinct instants, a few exactly on the cutoff, some with a mastery, ties in values.
    const attempts: AttemptSpec[] = [];
    for (let i = 0; i < 120; i++) {
      let t = i === 0 ? night.getTime() : night.getTime() - Math.floor(rand() * 20 * 3_600_000);
      while (used.has(t)) t -= 1;
      used.add(t);
      attempts.push({
        userId: learners[Math.floor(rand() * learners.length)]!,
        questionId: questionIds[Math.floor(rand() * questionIds.length)]!,
        correct: rand() < 0.6,
        hintUsed: rand() < 0.25,
        context: contexts[Math.floor(rand() * contexts.length)]!,
        recordedAt: new Date(t),
        masteryAtAttempt: rand() < 0.2 ? null : Math.round(rand() * 8) / 8, // repeated values
      });
    }
    await insertAttempts(db, attempts);
    const result = await runJob(db, config, { job: 'NIGHTLY', at: night });
    expect(result.outcome).toBe('succeeded');

    // Reference EWMA over this window's SESSION attempts.
    const credits = new Map<string, number[]>();
    for (const a of attempts) {
      if (a.context !== 'SESSION' || a.recordedAt.getTime() <= windowStart || a.recordedAt.getTime() > night.getTime())
        continue;
      const key = `${a.userId}/${subcategoryOf.get(a.questionId)}`;
      credits.set(key, [
        ...(credits.get(key) ?? []),
        attemptCredit({ correct: a.correct, hintUsed: a.hintUsed ?? false }),
      ]);
    }
    for (const [key, list] of credits)
      mastery.set(
        key,
        ewmaStep(mastery.get(key) ?? null, performance(list)!, masteryDefaults.alpha, masteryDefaults.prior),
      );
    const stored = await db.prisma.mastery.findMany();
    expect(stored.length).toBe(mastery.size);
    for (const m of stored)
      expect(Math.abs(m.score - mastery.get(`${m.userId}/${m.subcategory}`)!)).toBeLessThan(1e-12);
    windowStart = night.getTime();
  }

  // Reference statistics over all attempts to date.
  const all = await db.prisma.attempt.findMany({
    select: { id: true, userId: true, questionId: true, correct: true, recordedAt: true, masteryAtAttempt: true },
  });
  all.sort((a, b) => a.recordedAt.getTime() - b.recordedAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const sums = new Map(
    questionIds.map((id) => [
      id,
      {
        n: 0,
        correct: 0,
        x: { n: 0, sumX: 0, sumX2: 0, nCorrect: 0, sumXCorrect: 0 },
        followUpN: 0,
        followUpCorrect: 0,
      },
    ]),
  );
  const lastIn = new Map<string, string>();
  for (const a of all) {
    const s = sums.get(a.questionId)!;
    s.n += 1;
    if (a.correct) s.correct += 1;
    if (a.masteryAtAttempt !== null) {
      const x = a.masteryAtAttempt;
      s.x.n += 1;
      s.x.sumX += x;
      s.x.sumX2 += x * x;
      if (a.correct) {
        s.x.nCorrect += 1;
        s.x.sumXCorrect += x;
      }
    }
    const key = `${a.userId}/${subcategoryOf.get(a.questionId)}`;
    const previous = lastIn.get(key);
    if (previous) {
      sums.get(previous)!.followUpN += 1;
      if (a.correct) sums.get(previous)!.followUpCorrect += 1;
    }
    lastIn.set(key, a.questionId);
  }
  const accuracy = new Map(
    subcategories.map((sub) => {
      const qs = questionIds.filter((id) => subcategoryOf.get(id) === sub).map((id) => sums.get(id)!);
      return [sub, qs.reduce((c, q) => c + q.correct, 0) / qs.reduce((n, q) => n + q.n, 0)];
    }),
  );
  const rows = await db.prisma.question.findMany();
  for (const row of rows) {
    const s = sums.get(row.id)!;
    expect([
      row.attemptsCount,
      row.correctCount,
      row.masteryN,
      row.masteryCorrectN,
      row.followUpN,
      row.followUpCorrect,
    ]).toEqual([s.n, s.correct, s.x.n, s.x.nCorrect, s.followUpN, s.followUpCorrect]);
    close(row.difficulty, questionDifficulty(s.n, s.correct));
    close(row.discrimination, pointBiserial(s.x));
    close(row.learningImpact, learningImpact(s, accuracy.get(row.subcategory)!));
  }
  expect(rows.filter((r) => r.discrimination !== null).length).toBeGreaterThan(10);
  expect(rows.filter((r) => r.learningImpact !== null).length).toBeGreaterThan(10);
  // Importance from the stored statistics: exactly the reference ranking, ties included.
  const importance = importanceIndices(
    rows.map((r) => ({
      id: r.id,
      subcategory: r.subcategory,
      learningImpact: r.learningImpact,
      discrimination: r.discrimination,
    })),
  );
  for (const row of rows) expect(row.importanceIndex).toBe(importance.get(row.id));
});
