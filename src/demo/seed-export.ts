// A seeded export of the existing system (../shared/seed/): its tables as CSV files with its column
// names and value style (context lowercase, timestamps without a zone, in UTC, JSON arrays), for the
// import's tests and benchmark. Deterministic: the same options give the same files. Learners are
// generated one at a time, so a million attempts stream to disk in flat memory.
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';

export interface SeedExportOptions {
  learners: number;
  /** About this many attempts in all (each learner gets attempts / learners on average). */
  attempts: number;
  /** History length: sessions fall in the `days` days before `end`. */
  days: number;
  /** The export's end (exclusive): the last instant of history. */
  end: Date;
  seed: number;
  /** Share of session attempts written outside any session of their learner (default 0). */
  strayShare?: number;
  /** Share of learners with mastery_history rows (default 0.1). */
  historyShare?: number;
  /** Questions in the bank (default 240). */
  questions?: number;
}

export interface LegacyQuestion {
  id: string;
  category: string;
  subcategory: string;
  difficultyBand: 'easy' | 'medium' | 'hard';
  answer: string;
  options: string[];
}

export interface LegacySession {
  id: string;
  userId: string;
  startedAt: Date;
  endedAt: Date;
  units: string[];
}

export interface LegacyAttempt {
  id: string;
  userId: string;
  questionId: string;
  attemptNo: number;
  context: 'session' | 'practice' | 'daily';
  /** The session it was answered in (the export does not say: the import finds it by time). */
  sessionId: string | null;
  userAnswer: string;
  correct: boolean;
  timeSec: number;
  hintUsed: boolean;
  createdAt: Date;
}

export interface LegacyLearner {
  id: string;
  name: string;
  email: string;
  timezone: string;
  sessions: LegacySession[];
  /** In createdAt order. */
  attempts: LegacyAttempt[];
  history: { id: string; subcategory: string; score: number; date: string }[];
}

/** mulberry32: a small, fast, seeded generator. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function uuid(next: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(next() * 16).toString(16));
  hex[12] = '4';
  hex[16] = ((Number.parseInt(hex[16]!, 16) & 3) | 8).toString(16);
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const subcategories = [
  ['Quantitative', 'Algebra'],
  ['Quantitative', 'Geometry'],
  ['Quantitative', 'Arithmetic'],
  ['Quantitative', 'Statistics'],
  ['Verbal', 'Reading'],
  ['Verbal', 'Vocabulary'],
  ['Verbal', 'Grammar'],
  ['Verbal', 'Critical Reasoning'],
] as const;
const bands = ['easy', 'medium', 'hard'] as const;
const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata'];

export function legacyQuestions(seed: number, count = 240): LegacyQuestion[] {
  const next = random(seed);
  return Array.from({ length: count }, (_, i) => {
    const [category, subcategory] = subcategories[i % subcategories.length]!;
    const options = ['A', 'B', 'C', 'D'].map((letter) => `${letter}) ${subcategory} ${i}-${letter}`);
    return {
      id: uuid(next),
      category,
      subcategory,
      difficultyBand: bands[Math.floor(i / subcategories.length) % 3]!,
      answer: options[Math.floor(next() * 4)]!,
      options,
    };
  });
}

/** Learner `index` of the export: the same options give the same learner. */
export function legacyLearner(
  index: number,
  questions: readonly LegacyQuestion[],
  options: SeedExportOptions,
): LegacyLearner {
  const next = random(options.seed * 1_000_003 + index);
  const id = uuid(next);
  const dayMs = 86_400_000;
  const start = options.end.getTime() - options.days * dayMs;
  const skill = 0.35 + next() * 0.5;
  const perLearner = options.attempts / options.learners;
  const target = Math.max(1, Math.round(perLearner * (0.5 + next())));
  const sessions: LegacySession[] = [];
  const attempts: LegacyAttempt[] = [];
  const counts = new Map<string, number>();
  // Sessions on distinct days (never overlapping), then practice between them.
  const days = [
    ...new Set(Array.from({ length: Math.ceil(target / 8) }, () => Math.floor(next() * options.days))),
  ].sort((a, b) => a - b);
  const attempt = (
    question: LegacyQuestion,
    at: number,
    context: LegacyAttempt['context'],
    sessionId: string | null,
  ) => {
    const bandPenalty = question.difficultyBand === 'easy' ? 0 : question.difficultyBand === 'medium' ? 0.15 : 0.3;
    const correct = next() < skill - bandPenalty + 0.2;
    const attemptNo = (counts.get(question.id) ?? 0) + 1;
    counts.set(question.id, attemptNo);
    const wrong = question.options.filter((o) => o !== question.answer);
    attempts.push({
      id: uuid(next),
      userId: id,
      questionId: question.id,
      attemptNo,
      context,
      sessionId,
      userAnswer: correct ? question.answer : wrong[Math.floor(next() * wrong.length)]!,
      correct,
      timeSec: 5 + Math.floor(next() * 115),
      hintUsed: next() < 0.1,
      createdAt: new Date(at),
    });
  };
  let left = target;
  for (const day of days) {
    if (left <= 0) break;
    const size = Math.min(left, 3 + Math.floor(next() * 10));
    left -= size;
    const startedAt = start + day * dayMs + Math.floor((6 + next() * 14) * 3_600_000);
    const session: LegacySession = {
      id: uuid(next),
      userId: id,
      startedAt: new Date(startedAt),
      endedAt: new Date(0),
      units: [],
    };
    const units = new Set<string>();
    let at = startedAt + 5_000;
    for (let k = 0; k < size; k++) {
      const question = questions[Math.floor(next() * questions.length)]!;
      units.add(question.subcategory);
      // A stray: logged by the session's app after the session was closed.
      const stray = next() < (options.strayShare ?? 0);
      attempt(question, stray ? at + 3 * 3_600_000 : at, 'session', stray ? null : session.id);
      at += 20_000 + Math.floor(next() * 100_000);
    }
    session.endedAt = new Date(at);
    session.units = [...units];
    sessions.push(session);
    if (left > 0 && next() < 0.5) {
      const question = questions[Math.floor(next() * questions.length)]!;
      attempt(question, at + 5 * 3_600_000, next() < 0.5 ? 'practice' : 'daily', null);
      left--;
    }
  }
  attempts.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  renumber(attempts);
  const history: LegacyLearner['history'] = [];
  if (next() < (options.historyShare ?? 0.1) && attempts.length > 0) {
    const last = attempts[attempts.length - 1]!.createdAt;
    const date = new Date(last.getTime() + dayMs).toISOString().slice(0, 10);
    for (const subcategory of new Set(attempts.map((a) => questions.find((q) => q.id === a.questionId)!.subcategory))) {
      history.push({ id: uuid(next), subcategory, score: Math.round(next() * 100) / 100, date });
    }
  }
  return {
    id,
    name: `Learner ${index}`,
    email: `learner${index}.${options.seed}@example.com`,
    timezone: zones[index % zones.length]!,
    sessions,
    attempts,
    history,
  };
}

/** attempt_no in time order per question (strays moved later may have changed the order). */
function renumber(attempts: LegacyAttempt[]): void {
  const counts = new Map<string, number>();
  for (const a of attempts) {
    a.attemptNo = (counts.get(a.questionId) ?? 0) + 1;
    counts.set(a.questionId, a.attemptNo);
  }
}

/** '2025-08-11 14:03:22.123': the existing system's TIMESTAMP, without a zone (UTC). */
export function legacyTimestamp(instant: Date): string {
  return instant.toISOString().replace('T', ' ').replace('Z', '');
}

function csvField(value: string | number | boolean | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

class CsvFile {
  private buffer: string[] = [];
  constructor(
    private readonly stream: WriteStream,
    header: string[],
  ) {
    this.buffer.push(header.join(','));
  }
  async row(values: (string | number | boolean | null)[]): Promise<void> {
    this.buffer.push(values.map(csvField).join(','));
    if (this.buffer.length >= 2_000) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const text = `${this.buffer.join('\n')}\n`;
    this.buffer = [];
    if (!this.stream.write(text)) await once(this.stream, 'drain');
  }
  async close(): Promise<void> {
    await this.flush();
    this.stream.end();
    await once(this.stream, 'finish');
  }
}

export interface SeedExportCounts {
  users: number;
  questions: number;
  sessions: number;
  attempts: number;
  masteryHistory: number;
}

/** Writes users.csv, questions.csv, sessions.csv, attempts.csv and mastery_history.csv into `directory`. */
export async function writeSeedExport(directory: string, options: SeedExportOptions): Promise<SeedExportCounts> {
  await mkdir(directory, { recursive: true });
  const open = (name: string, header: string[]) => new CsvFile(createWriteStream(path.join(directory, name)), header);
  const questions = legacyQuestions(options.seed, options.questions);
  const questionsFile = open('questions.csv', [
    'id',
    'category',
    'subcategory',
    'difficulty_band',
    'answer',
    'options',
  ]);
  for (const q of questions)
    await questionsFile.row([q.id, q.category, q.subcategory, q.difficultyBand, q.answer, JSON.stringify(q.options)]);
  await questionsFile.close();
  const users = open('users.csv', ['id', 'name', 'email', 'timezone', 'role']);
  const sessions = open('sessions.csv', ['id', 'user_id', 'started_at', 'ended_at', 'duration_sec', 'units', 'notes']);
  const attempts = open('attempts.csv', [
    'id',
    'user_id',
    'question_id',
    'attempt_no',
    'context',
    'options',
    'user_answer',
    'correct',
    'time_sec',
    'hint_used',
    'created_at',
  ]);
  const history = open('mastery_history.csv', [
    'id',
    'user_id',
    'subcategory',
    'mastery_score',
    'recorded_date',
    'created_at',
  ]);
  const counts: SeedExportCounts = {
    users: 0,
    questions: questions.length,
    sessions: 0,
    attempts: 0,
    masteryHistory: 0,
  };
  const optionsOf = new Map(questions.map((q) => [q.id, JSON.stringify(q.options)]));
  for (let i = 0; i < options.learners; i++) {
    const learner = legacyLearner(i, questions, options);
    await users.row([learner.id, learner.name, learner.email, learner.timezone, 'learner']);
    for (const s of learner.sessions) {
      const duration = Math.round((s.endedAt.getTime() - s.startedAt.getTime()) / 1000);
      await sessions.row([
        s.id,
        s.userId,
        legacyTimestamp(s.startedAt),
        legacyTimestamp(s.endedAt),
        duration,
        JSON.stringify(s.units),
        null,
      ]);
    }
    for (const a of learner.attempts) {
      await attempts.row([
        a.id,
        a.userId,
        a.questionId,
        a.attemptNo,
        a.context,
        optionsOf.get(a.questionId)!,
        a.userAnswer,
        a.correct,
        a.timeSec,
        a.hintUsed,
        legacyTimestamp(a.createdAt),
      ]);
    }
    for (const h of learner.history)
      await history.row([h.id, learner.id, h.subcategory, h.score.toFixed(2), h.date, `${h.date} 02:00:00`]);
    counts.users++;
    counts.sessions += learner.sessions.length;
    counts.attempts += learner.attempts.length;
    counts.masteryHistory += learner.history.length;
  }
  await Promise.all([users.close(), sessions.close(), attempts.close(), history.close()]);
  return counts;
}
