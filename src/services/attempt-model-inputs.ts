// What recordAttempt needs of the live model before it writes: the learner's state (ability, skills,
// their latest answer to each question) and the question's grading key and parameters. Both are
// kept in memory between attempts, so the steady state of a learner answering question after
// question costs recordAttempt its one write statement. A cached learner is never trusted blindly:
// the write only applies if the state's version is still the one cached (and the answer key the one
// graded against), so a stale entry costs a re-read, never a lost or wrong update. Question
// parameters change only at NIGHTLY; a cached question is re-read after a minute.
import { LRUCache } from 'lru-cache';
import type { Database } from '../db/client.ts';
import type {
  LearnerAbility,
  LearnerModelParameters,
  PreviousAnswer,
  QuestionParameters,
  SkillState,
  SubcategoryPrior,
} from '../domain/learner-model.ts';
import type { DifficultyBand } from '../domain/types.ts';
import { notFound } from '../errors.ts';
import { questionParameters } from './learner-state.ts';

export interface CachedLearner {
  /** learner_states.version the state was read or written at. */
  version: number;
  learner: LearnerAbility;
  skills: Map<string, SkillState>;
  /** The learner's latest answer to each question they answered. */
  answers: Map<string, PreviousAnswer>;
}

export interface CachedQuestion {
  subcategory: string;
  answerKey: string;
  band: DifficultyBand;
  stored: { difficulty: number | null; attempts: number; information: number | null };
  prior: SubcategoryPrior;
}

/** The question's parameters for the model (the prior while it has none). */
export function parametersOf(model: LearnerModelParameters, question: CachedQuestion): QuestionParameters {
  return questionParameters(model, { band: question.band, ...question.stored }, question.prior);
}

interface Caches {
  learners: LRUCache<string, CachedLearner>;
  questions: LRUCache<string, CachedQuestion>;
}

const cachesByDatabase = new WeakMap<Database, Caches>();

function caches(db: Database): Caches {
  let found = cachesByDatabase.get(db);
  if (!found) {
    found = {
      // Bounded by what the entries hold (a heavy learner's answers count), and forgotten after a
      // while idle: a learner's next session is read afresh.
      learners: new LRUCache({
        maxSize: 2_000_000,
        sizeCalculation: (entry) => 1 + entry.skills.size + entry.answers.size,
        ttl: 30 * 60_000,
        updateAgeOnGet: true,
      }),
      questions: new LRUCache({ max: 100_000, ttl: 60_000 }),
    };
    cachesByDatabase.set(db, found);
  }
  return found;
}

/** The learner's state; null when no such user is stored (a staff token need not match one). */
export async function learnerInputs(db: Database, userId: string): Promise<CachedLearner | null> {
  const cached = caches(db).learners.get(userId);
  if (cached) return cached;
  const loaded = await loadLearner(db, userId);
  if (loaded) rememberLearner(db, userId, loaded);
  return loaded;
}

export async function questionInputs(db: Database, questionId: string): Promise<CachedQuestion> {
  const cached = caches(db).questions.get(questionId);
  if (cached) return cached;
  const [row] = await db.prisma.$queryRaw<
    {
      subcategory: string;
      band: DifficultyBand;
      answer_key: string;
      model_difficulty: number | null;
      model_attempts: number;
      model_information: number | null;
      prior_difficulty: number | null;
      prior_attempts: number | null;
      success_offset: number | null;
      failure_offset: number | null;
    }[]
  >`
    SELECT q.subcategory, q.difficulty_band::text AS band, q.answer_key, q.model_difficulty, q.model_attempts,
           q.model_information, p.difficulty AS prior_difficulty, p.attempts AS prior_attempts,
           p.success_offset, p.failure_offset
    FROM questions q LEFT JOIN subcategory_priors p ON p.subcategory = q.subcategory
    WHERE q.id = ${questionId}::uuid`;
  if (!row) throw notFound('This question');
  const question: CachedQuestion = {
    subcategory: row.subcategory,
    answerKey: row.answer_key,
    band: row.band,
    stored: { difficulty: row.model_difficulty, attempts: row.model_attempts, information: row.model_information },
    prior: {
      difficulty: row.prior_difficulty ?? 0,
      attempts: row.prior_attempts ?? 0,
      successOffset: row.success_offset ?? 0,
      failureOffset: row.failure_offset ?? 0,
    },
  };
  caches(db).questions.set(questionId, question);
  return question;
}

function rememberLearner(db: Database, userId: string, state: CachedLearner): void {
  const learners = caches(db).learners;
  const current = learners.peek(userId);
  if (!current || current.version <= state.version) learners.set(userId, state);
}

/**
 * The state an attempt just wrote (version + 1), applied to the state it was computed from, in place:
 * no copy of a long answer history per attempt. Safe because every use of a state is synchronous
 * between the read and the write's await, and a write from an older version than the stored one
 * never applies.
 */
export function learnerWritten(
  db: Database,
  userId: string,
  state: CachedLearner,
  written: {
    learner: LearnerAbility;
    subcategory: string;
    skill: SkillState;
    questionId: string;
    answer: PreviousAnswer;
  },
): void {
  state.version += 1;
  state.learner = written.learner;
  state.skills.set(written.subcategory, written.skill);
  state.answers.set(written.questionId, written.answer);
  rememberLearner(db, userId, state);
}

/** After a write that did not apply: the cached learner or question may be stale. */
export function forget(db: Database, userId: string, questionId: string): void {
  caches(db).learners.delete(userId);
  caches(db).questions.delete(questionId);
}

/**
 * The learner's state, skills and latest answer per question, in one statement. A learner's first
 * attempt creates their state row here, marked for a NIGHTLY replay of any history recorded before it.
 */
async function loadLearner(db: Database, userId: string): Promise<CachedLearner | null> {
  const [row] = await db.prisma.$queryRaw<
    {
      user_exists: boolean;
      theta: number | null;
      attempts: number | null;
      recent: number | null;
      recent_weight_offset: number | null;
      version: number | null;
      skills: [string, number, number, number, number, number | null][] | null;
      answers: [string, number, number, number, number][] | null;
    }[]
  >`
    WITH first_state AS (
      INSERT INTO learner_states (user_id, replay_from)
      SELECT u.id, (SELECT min(COALESCE(a.answered_at, a.recorded_at)) FROM attempts a WHERE a.user_id = u.id)
      FROM users u
      WHERE u.id = ${userId}::uuid AND NOT EXISTS (SELECT 1 FROM learner_states l WHERE l.user_id = u.id)
      ON CONFLICT DO NOTHING)
    SELECT EXISTS (SELECT 1 FROM users u WHERE u.id = ${userId}::uuid) AS user_exists, l.theta, l.attempts,
           l.recent, l.recent_weight_offset, l.version,
           (SELECT json_agg(json_build_array(s.subcategory, s.theta, s.attempts, s.credit_sum, s.recent,
                                             floor(extract(epoch FROM s.last_attempt_at) * 1000)))
            FROM skill_states s WHERE s.user_id = ${userId}::uuid) AS skills,
           (SELECT json_agg(json_build_array(p.question_id, p.credit, p.at, p.n, p.credit_sum))
            FROM (SELECT DISTINCT ON (a.question_id) a.question_id,
                         CASE WHEN NOT a.correct THEN 0 WHEN a.hint_used THEN 0.5 ELSE 1 END AS credit,
                         floor(extract(epoch FROM COALESCE(a.answered_at, a.recorded_at)) * 1000) AS at,
                         count(*) OVER w AS n,
                         sum(CASE WHEN NOT a.correct THEN 0 WHEN a.hint_used THEN 0.5 ELSE 1 END) OVER w AS credit_sum
                  FROM attempts a WHERE a.user_id = ${userId}::uuid
                  WINDOW w AS (PARTITION BY a.question_id)
                  ORDER BY a.question_id, a.attempt_no DESC) p) AS answers
    FROM (SELECT 1) one LEFT JOIN learner_states l ON l.user_id = ${userId}::uuid`;
  if (!row?.user_exists) return null;
  return {
    // A state row created by this very statement is not visible to it: version 0, a new learner.
    version: row.version ?? 0,
    learner: {
      theta: row.theta ?? 0,
      attempts: row.attempts ?? 0,
      recent: row.recent ?? 0.5,
      recentWeightOffset: row.recent_weight_offset ?? 0,
    },
    skills: new Map(
      (row.skills ?? []).map(([subcategory, theta, attempts, creditSum, recent, lastAttemptAt]) => [
        subcategory,
        { theta, attempts, creditSum, recent, lastAttemptAt: lastAttemptAt === null ? null : Number(lastAttemptAt) },
      ]),
    ),
    answers: new Map(
      (row.answers ?? []).map(([questionId, credit, at, attempts, creditSum]) => [
        questionId,
        { credit, atMs: Number(at), attempts: Number(attempts), creditSum: Number(creditSum) },
      ]),
    ),
  };
}
