// Set-up shared by the benchmarks: seeding through Prisma, and the HTTP load worker.
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { Database } from '../src/db/client.ts';
import { answerKey } from '../src/domain/grading.ts';
import type { HttpJob, WorkerMessage } from './http-worker.ts';
import type { LoadResult } from './load.ts';

// ---------------------------------------------------------------------------------------------
// Data

export interface Seeded {
  questions: { id: string; options: string[] }[];
  learners: { userId: string; sessionId: string }[];
}

const subcategories = [
  ['Quantitative', 'Algebra'],
  ['Quantitative', 'Geometry'],
  ['Quantitative', 'Arithmetic'],
  ['Quantitative', 'Statistics'],
  ['Verbal', 'Vocabulary'],
  ['Verbal', 'Reading'],
  ['Verbal', 'Grammar'],
  ['Verbal', 'Logic'],
] as const;
const bands = ['EASY', 'MEDIUM', 'HARD'] as const;

/** Questions, learners with an open session each and some masteries, straight through Prisma. */
export async function seed(db: Database, questionCount: number, learnerCount: number): Promise<Seeded> {
  const tag = randomBytes(4).toString('hex');
  await db.prisma.question.createMany({
    data: Array.from({ length: questionCount }, (_, i) => {
      const [category, subcategory] = subcategories[i % subcategories.length]!;
      const options = [`${i} A`, `${i} B`, `${i} C`, `${i} D`];
      const answer = options[i % options.length]!;
      return {
        externalId: `BENCH-${tag}-${i}`,
        category,
        subcategory,
        difficultyBand: bands[i % bands.length]!,
        answer,
        answerKey: answerKey(answer),
        options,
      };
    }),
  });
  const questions = await db.prisma.question.findMany({
    where: { externalId: { startsWith: `BENCH-${tag}-` } },
    select: { id: true, options: true },
  });
  await db.prisma.user.createMany({
    data: Array.from({ length: learnerCount }, (_, i) => ({
      name: `Bench Learner ${i}`,
      email: `learner.${i}@${tag}.bench.example`,
      role: 'LEARNER' as const,
    })),
  });
  const users = await db.prisma.user.findMany({
    where: { email: { endsWith: `@${tag}.bench.example` } },
    select: { id: true },
  });
  await db.prisma.session.createMany({ data: users.map((u) => ({ userId: u.id })) });
  const sessions = await db.prisma.session.findMany({
    where: { userId: { in: users.map((u) => u.id) } },
    select: { id: true, userId: true },
  });
  // Half the subcategories have a mastery, so the insert's mastery lookup finds a row half the time.
  const now = new Date();
  await db.prisma.mastery.createMany({
    data: users.flatMap((u) =>
      subcategories
        .filter((_, i) => i % 2 === 0)
        .map(([, subcategory]) => ({ userId: u.id, subcategory, score: Math.random(), updatedAt: now })),
    ),
  });
  return {
    questions: questions.map((q) => ({ id: q.id, options: q.options as string[] })),
    learners: sessions.map((s) => ({ userId: s.userId, sessionId: s.id })),
  };
}

// ---------------------------------------------------------------------------------------------
// Load in a worker thread

export async function startWorker(): Promise<Worker> {
  // tsx's hooks do not reach worker threads on Node 20: the worker registers them before importing the module.
  const api = import.meta.resolve('tsx/esm/api');
  const module = new URL('./http-worker.ts', import.meta.url).href;
  const worker = new Worker(
    `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(module)}); })`,
    { eval: true },
  );
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  return worker;
}

export function runInWorker(worker: Worker, job: HttpJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    worker.once('error', onError);
    worker.once('message', (message: WorkerMessage) => {
      worker.off('error', onError);
      if (message.ok) resolve(message.result);
      else reject(new Error(`load worker: ${message.error}`));
    });
    worker.postMessage(job);
  });
}
