// The demo data a new user sees on an empty database: six learners practising for two weeks.
// Pure and deterministic: the same seed and `now` give the same data (no clock, no Math.random),
// so tests, screenshots and bug reports are reproducible. src/demo/load.ts writes it.
import { answerKey } from '../domain/grading.ts';
import type { DifficultyBand } from '../domain/types.ts';

export const DEMO_LEARNER_EMAIL = 'learner@learnloop.dev';

export type DemoRole = 'LEARNER' | 'COACH' | 'ADMIN';
export type DemoContext = 'SESSION' | 'PRACTICE' | 'DAILY';

export interface DemoUser {
  name: string;
  email: string;
  role: DemoRole;
  timezone: string;
  dailyQuestionBudget: number;
  createdAt: Date;
}

export interface DemoQuestion {
  externalId: string;
  category: string;
  subcategory: string;
  difficultyBand: DifficultyBand;
  /** The four choices, in display order. */
  options: string[];
  answer: string;
}

export interface DemoSession {
  userEmail: string;
  clientSessionId: string;
  startedAt: Date;
  /** Null only for a session still in progress at `now`. */
  endedAt: Date | null;
  units: string[];
  notes: string | null;
}

export interface DemoAttempt {
  userEmail: string;
  clientAttemptId: string;
  questionExternalId: string;
  /** Null for PRACTICE and DAILY attempts. */
  clientSessionId: string | null;
  context: DemoContext;
  options: string[];
  userAnswer: string;
  /** What the server's grading gives: answerKey(userAnswer) === answerKey(answer). */
  correct: boolean;
  timeSec: number;
  hintUsed: boolean;
  answeredAt: Date;
  recordedAt: Date;
}

export interface DemoData {
  users: DemoUser[];
  questions: DemoQuestion[];
  sessions: DemoSession[];
  attempts: DemoAttempt[];
}

export interface DemoOptions {
  seed: number;
  now: Date;
  /** How many local days of history, today included. */
  days?: number;
}

export function simulateDemo({ seed, now, days = 14 }: DemoOptions): DemoData {
  const rng = mulberry32(seed);
  const questions = buildQuestionBank(rng);
  const windowStart = now.getTime() - days * DAY_MS;
  const users = [...STAFF, ...LEARNERS].map((person) => toUser(person, new Date(windowStart - DAY_MS)));
  const sessions: DemoSession[] = [];
  const attempts: DemoAttempt[] = [];
  for (const profile of LEARNERS) {
    // Each learner draws from their own stream: tuning one learner leaves the others as they were.
    const learner = newLearner(profile, questions, mulberry32(seed ^ hashString(profile.email)));
    const history = simulateLearner(learner, now.getTime(), days);
    sessions.push(...history.sessions);
    attempts.push(...history.attempts);
  }
  return { users, questions, sessions, attempts };
}

// ---------------------------------------------------------------------------------------------
// Seeded randomness

type Random = () => number;

/** mulberry32: tiny, fast and good enough for simulation; returns floats in [0, 1). */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hashString(text: string): number {
  let hash = 2166136261;
  for (let i = 0; i < text.length; i += 1) hash = Math.imul(hash ^ text.charCodeAt(i), 16777619);
  return hash >>> 0;
}

const between = (rng: Random, min: number, max: number) => min + rng() * (max - min);
const intBetween = (rng: Random, min: number, max: number) => Math.floor(between(rng, min, max + 1));
const chance = (rng: Random, p: number) => rng() < p;
const pick = <T>(rng: Random, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;

/** A standard normal draw (Box–Muller). */
function normal(rng: Random): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

function shuffled<T>(rng: Random, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Draws `count` distinct items, each with probability proportional to its weight. */
function weightedSample<T>(rng: Random, items: readonly T[], weight: (item: T) => number, count: number): T[] {
  const pool = [...items];
  const chosen: T[] = [];
  while (chosen.length < count && pool.length > 0) {
    const total = pool.reduce((sum, item) => sum + weight(item), 0);
    let r = rng() * total;
    const index = pool.findIndex((item) => {
      r -= weight(item);
      return r < 0;
    });
    chosen.push(...pool.splice(index < 0 ? pool.length - 1 : index, 1));
  }
  return chosen;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

// ---------------------------------------------------------------------------------------------
// Question bank: 4 categories × 3 subcategories × 17 questions

const QUESTIONS_PER_SUBCATEGORY = 17;
/** 40/40/20 EASY/MEDIUM/HARD, repeated through each subcategory. */
const BAND_PATTERN: readonly DifficultyBand[] = ['EASY', 'MEDIUM', 'EASY', 'MEDIUM', 'HARD'];

interface SubcategorySpec {
  category: string;
  subcategory: string;
  code: string;
  /** Four distinct choices (also under grading's answerKey); the first one is the answer. */
  choices: (rng: Random) => string[];
}

/** The answer plus three nearby wrong numbers, formatted. */
function numericChoices(format: (n: number) => string, min: number, max: number, step: number, spread: number) {
  return (rng: Random): string[] => {
    const answer = min + step * intBetween(rng, 0, Math.floor((max - min) / step));
    const values = new Set([answer]);
    while (values.size < 4) values.add(answer + step * pick(rng, [-1, 1]) * intBetween(rng, 1, spread));
    return [...values].map(format);
  };
}

/** Four distinct phrases from a pool; the first drawn is the answer. */
function poolChoices(pool: readonly string[]) {
  return (rng: Random): string[] => shuffled(rng, pool).slice(0, 4);
}

const SUBCATEGORIES: readonly SubcategorySpec[] = [
  {
    category: 'Quantitative',
    subcategory: 'Algebra',
    code: 'ALG',
    choices: numericChoices((n) => `x = ${n}`, -9, 24, 1, 6),
  },
  {
    category: 'Quantitative',
    subcategory: 'Geometry',
    code: 'GEO',
    choices: numericChoices((n) => `${n}°`, 15, 165, 5, 5),
  },
  {
    category: 'Quantitative',
    subcategory: 'Data Interpretation',
    code: 'DI',
    choices: numericChoices((n) => `${n}%`, 4, 96, 2, 6),
  },
  {
    category: 'Verbal',
    subcategory: 'Reading Comprehension',
    code: 'RC',
    choices: poolChoices([
      "The author questions the study's method",
      'The passage mainly describes a historical shift',
      "The author's tone is cautiously optimistic",
      'The second paragraph offers a counterexample',
      'The evidence is described as incomplete',
      'The passage contrasts two competing theories',
      'The final sentence qualifies the main claim',
      'The author dismisses the critics',
      'The passage explains a cause and its effect',
      'The author calls for further research',
    ]),
  },
  {
    category: 'Verbal',
    subcategory: 'Sentence Equivalence',
    code: 'SE',
    choices: poolChoices([
      'laconic',
      'verbose',
      'candid',
      'obdurate',
      'pliant',
      'ephemeral',
      'meticulous',
      'prosaic',
      'lucid',
      'opaque',
      'placate',
      'disparage',
      'extol',
      'diffident',
      'ebullient',
      'garrulous',
    ]),
  },
  {
    category: 'Verbal',
    subcategory: 'Text Completion',
    code: 'TC',
    choices: poolChoices([
      'in spite of',
      'by and large',
      'on the contrary',
      'as a result',
      'far from',
      'in keeping with',
      'at odds with',
      'let alone',
      'in lieu of',
      'to say nothing of',
    ]),
  },
  {
    category: 'Integrated Reasoning',
    subcategory: 'Table Analysis',
    code: 'TA',
    choices: numericChoices((n) => `${n} of 12 stores`, 1, 11, 1, 4),
  },
  {
    category: 'Integrated Reasoning',
    subcategory: 'Graphics Interpretation',
    code: 'GI',
    choices: numericChoices((n) => `about ${n} million`, 10, 90, 5, 4),
  },
  {
    category: 'Integrated Reasoning',
    subcategory: 'Multi-Source Reasoning',
    code: 'MSR',
    choices: poolChoices([
      'Supported by the email only',
      'Supported by the memo only',
      'Supported by both sources',
      'Contradicted by the memo',
      'Contradicted by the email',
      'Neither supported nor contradicted',
      'Supported by the table only',
      'Contradicted by the table',
    ]),
  },
  {
    category: 'Critical Reasoning',
    subcategory: 'Assumptions',
    code: 'ASM',
    choices: poolChoices([
      'The survey sample was representative',
      'No other factor explains the rise',
      'The trend will continue next year',
      'Costs will not increase',
      'The new policy was enforced',
      'The two groups were comparable',
      'The measurement method did not change',
      'Competitors did not lower prices',
    ]),
  },
  {
    category: 'Critical Reasoning',
    subcategory: 'Strengthen & Weaken',
    code: 'SW',
    choices: poolChoices([
      'Sales rose before the campaign began',
      'Similar towns saw no change',
      'The data came from a single month',
      'Most respondents had used the product',
      'The control group received the same training',
      'Prices fell across the whole region',
      'The effect disappeared after a year',
      'Independent labs confirmed the result',
    ]),
  },
  {
    category: 'Critical Reasoning',
    subcategory: 'Inference',
    code: 'INF',
    choices: poolChoices([
      'Some managers work remotely',
      'At least one product was discontinued',
      'Revenue did not fall in every quarter',
      'Not all members voted',
      'The museum charges for some exhibits',
      'Every licensed pilot passed the test',
      'Some imports were taxed twice',
      'No branch opened before 2019',
    ]),
  },
];

const SUBCATEGORY_NAMES = SUBCATEGORIES.map((spec) => spec.subcategory);
const CATEGORY_OF = new Map(SUBCATEGORIES.map((spec) => [spec.subcategory, spec.category]));

function buildQuestionBank(rng: Random): DemoQuestion[] {
  return SUBCATEGORIES.flatMap((spec) =>
    Array.from({ length: QUESTIONS_PER_SUBCATEGORY }, (_, i): DemoQuestion => {
      const choices = spec.choices(rng);
      return {
        externalId: `Q-${spec.code}-${String(i + 1).padStart(3, '0')}`,
        category: spec.category,
        subcategory: spec.subcategory,
        difficultyBand: BAND_PATTERN[i % BAND_PATTERN.length]!,
        options: shuffled(rng, choices),
        answer: choices[0]!,
      };
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// People

interface Person {
  name: string;
  email: string;
  role: DemoRole;
  timezone: string;
  dailyQuestionBudget: number;
}

interface LearnerProfile extends Person {
  /** Overall skill on the logit scale (0: an even chance at a MEDIUM question). */
  ability: number;
  /** Strengths and weaknesses by category, added to ability. */
  leans: Readonly<Record<string, number>>;
  /** Logits gained in a subcategory with plenty of practice. */
  learningGain: number;
  /** Local hours (decimal) of the first and the second session of a day. */
  sessionHours: readonly [number, number];
  restChance: number;
  secondSessionChance: number;
  sessionSize: readonly [number, number];
  /** Multiplies every answer time. */
  slowness: number;
  hintRate: number;
}

const STAFF: readonly Person[] = [
  { name: 'Ada Admin', email: 'admin@learnloop.dev', role: 'ADMIN', timezone: 'UTC', dailyQuestionBudget: 30 },
  {
    name: 'Cole Coach',
    email: 'coach@learnloop.dev',
    role: 'COACH',
    timezone: 'Europe/London',
    dailyQuestionBudget: 30,
  },
];

const learner = (profile: Omit<LearnerProfile, 'role'>): LearnerProfile => ({ ...profile, role: 'LEARNER' });

const LEARNERS: readonly LearnerProfile[] = [
  learner({
    name: 'Lena Learner',
    email: DEMO_LEARNER_EMAIL,
    timezone: 'Europe/Berlin',
    dailyQuestionBudget: 30,
    ability: 0.1,
    leans: { Quantitative: -0.6, Verbal: 0.5 },
    learningGain: 1.4,
    sessionHours: [7.5, 19.5],
    restChance: 0.05,
    secondSessionChance: 0.65,
    sessionSize: [22, 40],
    slowness: 1,
    hintRate: 0.06,
  }),
  learner({
    name: 'Arjun Mehta',
    email: 'learner2@learnloop.dev',
    timezone: 'Asia/Kolkata',
    dailyQuestionBudget: 30,
    ability: 0.5,
    leans: { Quantitative: 0.7, Verbal: -0.5 },
    learningGain: 1.1,
    sessionHours: [6.5, 21],
    restChance: 0.12,
    secondSessionChance: 0.65,
    sessionSize: [22, 40],
    slowness: 0.85,
    hintRate: 0.03,
  }),
  learner({
    name: 'Maya Thompson',
    email: 'learner3@learnloop.dev',
    timezone: 'America/New_York',
    dailyQuestionBudget: 30,
    ability: -0.1,
    leans: { Verbal: 0.6, 'Integrated Reasoning': -0.4 },
    learningGain: 1.3,
    sessionHours: [12.5, 20.5],
    restChance: 0.15,
    secondSessionChance: 0.55,
    sessionSize: [20, 40],
    slowness: 1.1,
    hintRate: 0.08,
  }),
  learner({
    name: 'Diego Alvarez',
    email: 'learner4@learnloop.dev',
    timezone: 'America/Mexico_City',
    dailyQuestionBudget: 30,
    ability: -0.5,
    leans: { 'Critical Reasoning': 0.5, Quantitative: -0.3 },
    learningGain: 1.7,
    sessionHours: [17.5, 22],
    restChance: 0.2,
    secondSessionChance: 0.55,
    sessionSize: [16, 38],
    slowness: 1.2,
    hintRate: 0.12,
  }),
  learner({
    name: 'Yuki Tanaka',
    email: 'learner5@learnloop.dev',
    timezone: 'Asia/Tokyo',
    dailyQuestionBudget: 20,
    ability: 0.9,
    leans: { 'Integrated Reasoning': 0.4, Verbal: -0.2 },
    learningGain: 0.5,
    sessionHours: [6, 21.5],
    restChance: 0.1,
    secondSessionChance: 0.55,
    sessionSize: [16, 32],
    slowness: 0.8,
    hintRate: 0.02,
  }),
  learner({
    name: 'Amara Okafor',
    email: 'learner6@learnloop.dev',
    timezone: 'UTC',
    dailyQuestionBudget: 30,
    ability: 0,
    leans: { Quantitative: 0.3, 'Critical Reasoning': -0.5 },
    learningGain: 1.2,
    sessionHours: [9, 17],
    restChance: 0.1,
    secondSessionChance: 0.6,
    sessionSize: [20, 40],
    slowness: 1,
    hintRate: 0.05,
  }),
];

function toUser(person: Person, createdAt: Date): DemoUser {
  const { name, email, role, timezone, dailyQuestionBudget } = person;
  return { name, email, role, timezone, dailyQuestionBudget, createdAt };
}

// ---------------------------------------------------------------------------------------------
// A learner's hidden state

interface Learner {
  profile: LearnerProfile;
  rng: Random;
  bank: ReadonlyMap<string, readonly DemoQuestion[]>;
  /** Skill per subcategory before any practice (logits). */
  baseSkill: Map<string, number>;
  practice: Map<string, number>;
  timesSeen: Map<string, number>;
  /** Questions answered wrong, by subcategory: candidates for a retry. */
  missed: Map<string, string[]>;
  sessionCount: number;
  attemptCount: number;
}

function newLearner(profile: LearnerProfile, questions: readonly DemoQuestion[], rng: Random): Learner {
  const bank = new Map<string, DemoQuestion[]>();
  for (const q of questions) bank.set(q.subcategory, [...(bank.get(q.subcategory) ?? []), q]);
  const baseSkill = new Map(
    SUBCATEGORY_NAMES.map((sub) => [
      sub,
      profile.ability + (profile.leans[CATEGORY_OF.get(sub)!] ?? 0) + 0.35 * normal(rng),
    ]),
  );
  return {
    profile,
    rng,
    bank,
    baseSkill,
    practice: new Map(),
    timesSeen: new Map(),
    missed: new Map(),
    sessionCount: 0,
    attemptCount: 0,
  };
}

/** Practice pays off with diminishing returns: most of the gain comes in the first ~40 attempts. */
function skill(learner: Learner, subcategory: string): number {
  const practised = learner.practice.get(subcategory) ?? 0;
  return learner.baseSkill.get(subcategory)! + learner.profile.learningGain * (1 - Math.exp(-practised / 40));
}

const BAND_DIFFICULTY: Record<DifficultyBand, number> = { EASY: -1.2, MEDIUM: 0, HARD: 1.1 };
const BAND_SECONDS: Record<DifficultyBand, number> = { EASY: 40, MEDIUM: 70, HARD: 105 };
/** Harder questions send learners to the hint more often. */
const BAND_HINT_FACTOR: Record<DifficultyBand, number> = { EASY: 0.5, MEDIUM: 1, HARD: 2 };
/** Past this many answers in one sitting, fatigue sets in. */
const FRESH_ANSWERS = 20;

// ---------------------------------------------------------------------------------------------
// Answering one question

interface Answer {
  question: DemoQuestion;
  correct: boolean;
  userAnswer: string;
  hintUsed: boolean;
  timeSec: number;
}

/** `position` is 1-based within the sitting: long sittings get slower and sloppier. */
function answer(learner: Learner, question: DemoQuestion, position: number): Answer {
  const { rng, profile } = learner;
  const fatigue = Math.max(0, position - FRESH_ANSWERS);
  const hintUsed = chance(rng, profile.hintRate * BAND_HINT_FACTOR[question.difficultyBand]);
  const correct = chance(rng, chanceCorrect(learner, question, fatigue, hintUsed));
  const seconds = answerSeconds(learner, question, fatigue, correct) + (hintUsed ? 15 : 0);
  recordPractice(learner, question, correct);
  return {
    question,
    correct,
    userAnswer: correct
      ? correctAnswerAsTyped(rng, question.answer)
      : pick(
          rng,
          question.options.filter((o) => o !== question.answer),
        ),
    hintUsed,
    timeSec: Math.round(Math.max(5, seconds) * 10) / 10,
  };
}

/** Logistic in skill minus the band's difficulty; a hint or a question seen before helps. */
function chanceCorrect(learner: Learner, question: DemoQuestion, fatigue: number, hintUsed: boolean): number {
  const seenBefore = (learner.timesSeen.get(question.externalId) ?? 0) > 0;
  const logit = skill(learner, question.subcategory) - BAND_DIFFICULTY[question.difficultyBand];
  return sigmoid(logit - 0.04 * fatigue + (hintUsed ? 1 : 0) + (seenBefore ? 0.4 : 0));
}

/** Log-normal around the band's typical time; wrong answers and tired learners are slower. */
function answerSeconds(learner: Learner, question: DemoQuestion, fatigue: number, correct: boolean): number {
  const typical = BAND_SECONDS[question.difficultyBand] * learner.profile.slowness;
  return typical * Math.exp(0.3 * normal(learner.rng)) * (correct ? 1 : 1.3) * (1 + 0.025 * fatigue);
}

function recordPractice(learner: Learner, question: DemoQuestion, correct: boolean): void {
  const { subcategory, externalId } = question;
  learner.practice.set(subcategory, (learner.practice.get(subcategory) ?? 0) + 1);
  learner.timesSeen.set(externalId, (learner.timesSeen.get(externalId) ?? 0) + 1);
  const missed = (learner.missed.get(subcategory) ?? []).filter((id) => id !== externalId);
  learner.missed.set(subcategory, correct ? missed : [...missed, externalId]);
}

/** Now and then the answer comes back in another case or with stray spaces: grading is lenient. */
function correctAnswerAsTyped(rng: Random, answer: string): string {
  if (!chance(rng, 0.04)) return answer;
  const variants = [answer.toUpperCase(), answer.toLowerCase(), `  ${answer} `, answer.replace(/ /g, '  ')].filter(
    (variant) => variant !== answer && answerKey(variant) === answerKey(answer),
  );
  return variants.length > 0 ? pick(rng, variants) : ` ${answer}`;
}

/** Mostly fresh questions in a 40/40/20 band mix; now and then a retry of one missed earlier. */
function chooseQuestion(learner: Learner, subcategory: string): DemoQuestion {
  const { rng } = learner;
  const questions = learner.bank.get(subcategory)!;
  const missed = learner.missed.get(subcategory) ?? [];
  if (missed.length > 0 && chance(rng, 0.1)) {
    const retry = pick(rng, missed);
    return questions.find((q) => q.externalId === retry)!;
  }
  const band = pick(rng, ['EASY', 'EASY', 'MEDIUM', 'MEDIUM', 'HARD'] as const);
  const inBand = questions.filter((q) => q.difficultyBand === band);
  const leastSeen = Math.min(...inBand.map((q) => learner.timesSeen.get(q.externalId) ?? 0));
  return pick(
    rng,
    inBand.filter((q) => (learner.timesSeen.get(q.externalId) ?? 0) === leastSeen),
  );
}

// ---------------------------------------------------------------------------------------------
// Sittings: sessions, practice sets and daily challenges

interface Sitting {
  session: DemoSession | null;
  attempts: DemoAttempt[];
  /** When the learner put the device down. */
  endMs: number;
  /** Some answers were still to come at `now`. */
  cutShort: boolean;
}

interface TimedAnswer extends Answer {
  answeredMs: number;
}

/**
 * Answers questions one after the other from `startMs`; `subcategoryAt(i)` picks the i-th one's
 * subcategory. Stops early, cut short, when the next answer would come after `nowMs` (the learner's
 * simulation ends there, so the answer drawn but not given does not matter).
 */
function sit(learner: Learner, startMs: number, count: number, nowMs: number, subcategoryAt: (i: number) => string) {
  const { rng } = learner;
  const answers: TimedAnswer[] = [];
  let clock = startMs + between(rng, 20, 60) * 1000; // opening the app, reading the first prompt
  for (let i = 0; i < count; i += 1) {
    const given = answer(learner, chooseQuestion(learner, subcategoryAt(i)), i + 1);
    const answeredMs = Math.round(clock + given.timeSec * 1000);
    if (answeredMs > nowMs - 10_000) return { answers, endMs: clock, cutShort: true };
    answers.push({ ...given, answeredMs });
    clock = answeredMs + between(rng, 2, 9) * 1000; // reading the feedback
  }
  return { answers, endMs: clock, cutShort: false };
}

function toAttempt(
  learner: Learner,
  given: TimedAnswer,
  context: DemoContext,
  clientSessionId: string | null,
  syncLagMs: number,
): DemoAttempt {
  learner.attemptCount += 1;
  return {
    userEmail: learner.profile.email,
    clientAttemptId: `demo-${handle(learner.profile)}-a${String(learner.attemptCount).padStart(5, '0')}`,
    questionExternalId: given.question.externalId,
    clientSessionId,
    context,
    options: given.question.options,
    userAnswer: given.userAnswer,
    correct: given.correct,
    timeSec: given.timeSec,
    hintUsed: given.hintUsed,
    answeredAt: new Date(given.answeredMs),
    recordedAt: new Date(given.answeredMs + syncLagMs),
  };
}

/** Learners pick weak subcategories more often, but not only those. */
const weakerFirst = (learner: Learner) => (subcategory: string) => 1.6 - sigmoid(skill(learner, subcategory));

/** The readable part of client ids: "learner2" for learner2@learnloop.dev. */
const handle = (profile: Person) => profile.email.split('@')[0]!;

/** A network round trip: a fraction of a second to a few seconds. */
const onlineLag = (rng: Random) => Math.round(between(rng, 150, 3000));

const SESSION_NOTES = [
  'Felt tired today',
  'Timed myself strictly',
  'Reviewed formulas before starting',
  'Focused on my weak areas',
  'Studied on the train',
  'Short on time, stopped early',
  'Good focus after coffee',
];

/** A session over 2–4 subcategories, weaker ones more likely, worked in blocks with some interleaving. */
function sessionSitting(learner: Learner, startMs: number, nowMs: number, mayStayOpen: boolean): Sitting {
  const { rng, profile } = learner;
  const units = weightedSample(rng, SUBCATEGORY_NAMES, weakerFirst(learner), intBetween(rng, 2, 4));
  const count = intBetween(rng, profile.sessionSize[0], profile.sessionSize[1]);
  const blockOf = (i: number) => units[Math.min(units.length - 1, Math.floor((i * units.length) / count))]!;
  const run = sit(learner, startMs, count, nowMs, (i) => (chance(rng, 0.12) ? pick(rng, units) : blockOf(i)));
  learner.sessionCount += 1;
  const clientSessionId = `demo-${handle(profile)}-s${String(learner.sessionCount).padStart(3, '0')}`;
  const attempts = run.answers.map((given) => toAttempt(learner, given, 'SESSION', clientSessionId, onlineLag(rng)));
  const lastRecordedMs = Math.max(startMs, ...attempts.map((a) => a.recordedAt.getTime()));
  const endedMs = lastRecordedMs + Math.round(between(rng, 5, 60) * 1000);
  const open = run.cutShort || endedMs > nowMs;
  const session: DemoSession = {
    userEmail: profile.email,
    clientSessionId,
    startedAt: new Date(startMs),
    endedAt: open && mayStayOpen ? null : new Date(endedMs),
    units,
    notes: chance(rng, 0.2) ? pick(rng, SESSION_NOTES) : null,
  };
  return { session, attempts, endMs: endedMs, cutShort: open };
}

/**
 * A PRACTICE set in one subcategory or a 5-question DAILY challenge across several, outside any
 * session. Now and then the device was offline and the answers synced hours later.
 */
function freeSitting(learner: Learner, context: 'PRACTICE' | 'DAILY', startMs: number, nowMs: number): Sitting {
  const { rng } = learner;
  const focus = weightedSample(rng, SUBCATEGORY_NAMES, weakerFirst(learner), 1)[0]!;
  const count = context === 'DAILY' ? 5 : intBetween(rng, 4, 12);
  const run = sit(learner, startMs, count, nowMs, () => (context === 'DAILY' ? pick(rng, SUBCATEGORY_NAMES) : focus));
  const lastAnsweredMs = Math.max(startMs, ...run.answers.map((a) => a.answeredMs));
  const offlineLagMs = Math.round(between(rng, 2, 8) * 3_600_000);
  const offline = chance(rng, 0.1) && lastAnsweredMs + offlineLagMs < nowMs - 60_000;
  // Offline answers all arrive in one sync hours later, in the order they were given.
  const syncMs = lastAnsweredMs + offlineLagMs;
  const attempts = run.answers.map((given, i) =>
    toAttempt(learner, given, context, null, offline ? syncMs + (i + 1) * 200 - given.answeredMs : onlineLag(rng)),
  );
  return { session: null, attempts, endMs: run.endMs, cutShort: run.cutShort };
}

// ---------------------------------------------------------------------------------------------
// Days

type PlannedSitting = { kind: 'SESSION' | 'PRACTICE' | 'DAILY'; startMs: number };

function simulateLearner(learner: Learner, nowMs: number, days: number) {
  const sessions: DemoSession[] = [];
  const attempts: DemoAttempt[] = [];
  const today = localDate(nowMs, learner.profile.timezone);
  let day: DayOutcome = { interrupted: false, freeFromMs: -Infinity };
  for (let back = days - 1; back >= 0 && !day.interrupted; back -= 1) {
    day = simulateDay(learner, addDays(today, -back), nowMs, sessions, attempts);
  }
  // The demo learner is in the middle of a session right now, so a new user can record an
  // attempt into it and end it.
  const openStartMs = nowMs - OPEN_SESSION_AGE_MS;
  if (learner.profile.email === DEMO_LEARNER_EMAIL && !day.interrupted && openStartMs > day.freeFromMs + BREAK_MS) {
    const sitting = sessionSitting(learner, openStartMs, nowMs, true);
    sessions.push(sitting.session!);
    attempts.push(...sitting.attempts);
  }
  return { sessions, attempts };
}

const BREAK_MS = 10 * 60_000;
const OPEN_SESSION_AGE_MS = 9 * 60_000;

interface DayOutcome {
  /** `now` came in the middle of a sitting: nothing after it has happened. */
  interrupted: boolean;
  /** When the day's last sitting ended. */
  freeFromMs: number;
}

/** Plays one local day in time order. */
function simulateDay(
  learner: Learner,
  day: LocalDate,
  nowMs: number,
  sessions: DemoSession[],
  attempts: DemoAttempt[],
): DayOutcome {
  const isDemoLearner = learner.profile.email === DEMO_LEARNER_EMAIL;
  let freeFromMs = -Infinity;
  for (const planned of planDay(learner, day)) {
    // Sittings never overlap: a late one waits until the previous one is over.
    const startMs = Math.max(planned.startMs, freeFromMs + BREAK_MS);
    if (startMs >= nowMs) break; // later today: it has not happened yet
    const sitting =
      planned.kind === 'SESSION'
        ? sessionSitting(learner, startMs, nowMs, isDemoLearner)
        : freeSitting(learner, planned.kind, startMs, nowMs);
    // Only the demo learner is caught mid-session (an open session to play with); others' unfinished
    // sittings have not happened yet.
    if (sitting.cutShort && !(isDemoLearner && sitting.session)) return { interrupted: true, freeFromMs };
    if (sitting.session) sessions.push(sitting.session);
    attempts.push(...sitting.attempts);
    if (sitting.cutShort) return { interrupted: true, freeFromMs };
    freeFromMs = sitting.endMs;
  }
  return { interrupted: false, freeFromMs };
}

/** 0–2 sessions at the learner's usual hours, maybe a daily challenge and a practice set. */
function planDay(learner: Learner, day: LocalDate): PlannedSitting[] {
  const { rng, profile } = learner;
  const at = (hour: number, jitterMinutes: number) =>
    zonedInstant(day, Math.round(hour * 60 + jitterMinutes * normal(rng)), profile.timezone);
  const planned: PlannedSitting[] = [];
  if (!chance(rng, profile.restChance)) {
    const [first, second] = chance(rng, 0.5)
      ? profile.sessionHours
      : ([profile.sessionHours[1], profile.sessionHours[0]] as const);
    planned.push({ kind: 'SESSION', startMs: at(first, 25) });
    if (chance(rng, profile.secondSessionChance)) planned.push({ kind: 'SESSION', startMs: at(second, 25) });
  }
  if (chance(rng, 0.7)) planned.push({ kind: 'DAILY', startMs: at(between(rng, 8, 22), 10) });
  if (chance(rng, 0.45)) planned.push({ kind: 'PRACTICE', startMs: at(between(rng, 8, 22), 10) });
  return planned.sort((a, b) => a.startMs - b.startMs);
}

// ---------------------------------------------------------------------------------------------
// Local time (pure: Intl's time-zone data, no clock)

const DAY_MS = 86_400_000;

interface LocalDate {
  year: number;
  month: number;
  day: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function wallClock(instantMs: number, timeZone: string) {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  const parts = Object.fromEntries(formatter.formatToParts(new Date(instantMs)).map((p) => [p.type, Number(p.value)]));
  return {
    year: parts.year!,
    month: parts.month!,
    day: parts.day!,
    hour: parts.hour!,
    minute: parts.minute!,
    second: parts.second!,
  };
}

function localDate(instantMs: number, timeZone: string): LocalDate {
  const { year, month, day } = wallClock(instantMs, timeZone);
  return { year, month, day };
}

function addDays(date: LocalDate, days: number): LocalDate {
  const shifted = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: shifted.getUTCFullYear(), month: shifted.getUTCMonth() + 1, day: shifted.getUTCDate() };
}

/** Milliseconds the zone's wall clock is ahead of UTC at an instant. */
function zoneOffsetMs(instantMs: number, timeZone: string): number {
  const w = wallClock(instantMs, timeZone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(instantMs / 1000) * 1000;
}

/** The instant at `minutes` past local midnight of `date` (two passes settle DST changes). */
function zonedInstant(date: LocalDate, minutes: number, timeZone: string): number {
  const asIfUtc = Date.UTC(date.year, date.month - 1, date.day, 0, minutes);
  const firstGuess = asIfUtc - zoneOffsetMs(asIfUtc, timeZone);
  return asIfUtc - zoneOffsetMs(firstGuess, timeZone);
}
