// NIGHTLY step: the live learner model's nightly half (docs/learner-model-api.md). The write path
// moves only the learner's state; this step
//  1. refits the parameters of the questions the window's attempts touched, from their aggregates
//     (count, Σ credit, Σ predictedCorrect, Σ p(1 − p): one GROUP BY) and the running sums stored
//     on the question, with refitQuestionParameters; then every subcategory's prior from one
//     GROUP BY over the questions, with refitSubcategoryPrior. One multi-row statement each writes
//     them back; and each subcategory's PFA offsets from the window's gradient and curvature in them
//     (one GROUP BY: the features each prediction saw are the learner's skill state now less the
//     attempts recorded from it on), with refitPracticeOffsets;
//  2. replays, in answeredAt order, the learners whose state is not a replay of their attempts in
//     that order: those recordAttempt marked (an attempt older than their state, or history from
//     before their state existed) and those with attempts the write path never saw (imported: no
//     masteryAfter). Their state rows are locked first, then in chunks of learners: read their attempts
//     (one statement, the next chunk's while this one is replayed), replay with updateAfterAttempt,
//     write the states back (one statement), each skill
//     with its plan mastery: the estimate right after the last attempt that moved it, as recordAttempt
//     stores it (masteryAfter). A learner whose attempt arrives during the run waits for the lock,
//     then applies it on the replayed state.

import { readingAhead } from '../../db/in-flight.ts';
import type { Transaction } from '../../db/types.ts';
import {
  type AttemptAggregate,
  answerAfter,
  estimate,
  type LearnerAbility,
  type LearnerModelParameters,
  newLearnerAbility,
  type PracticeAggregate,
  type PracticeOffsets,
  type PreviousAnswer,
  practicePrior,
  refitPracticeOffsets,
  refitQuestionParameters,
  refitSubcategoryPrior,
  type SkillState,
  updateAfterAttempt,
} from '../../domain/learner-model.ts';
import type { DifficultyBand } from '../../domain/types.ts';
import { questionParameters, SubcategoryPriors } from '../../services/learner-state.ts';
import type { RunContext, StepStats } from '../context.ts';

export async function updateLearnerModel(ctx: RunContext): Promise<StepStats> {
  if (ctx.stale)
    return {
      questionsRefitted: 0,
      practiceRefitted: 0,
      subcategoryPriors: 0,
      learnersReplayed: 0,
      attemptsReplayed: 0,
    };
  const questionsRefitted = await refitQuestions(ctx);
  const practiceRefitted = await refitPractice(ctx);
  const subcategoryPriors = await refitPriors(ctx);
  const { learners, attempts } = await replayLearners(ctx);
  return {
    questionsRefitted,
    practiceRefitted,
    subcategoryPriors,
    learnersReplayed: learners,
    attemptsReplayed: attempts,
  };
}

/** One question's parameters and the window's aggregates of its attempts with a stored prediction. */
interface QuestionNight extends AttemptAggregate {
  id: string;
  subcategory: string;
  band: DifficultyBand;
  difficulty: number | null;
  model_attempts: number;
  information: number | null;
}

async function refitQuestions(ctx: RunContext): Promise<number> {
  const { tx, windowStart, windowEnd } = ctx;
  const model = ctx.config.learnerModel;
  const [row] = await tx.$queryRaw<{ nights: string | null }[]>`
    SELECT json_agg(json_build_object(
             'id', q.id, 'subcategory', q.subcategory, 'band', q.difficulty_band, 'difficulty', q.model_difficulty,
             'model_attempts', q.model_attempts, 'information', q.model_information, 'attempts', w.n,
             'creditSum', w.credit_sum, 'predictedSum', w.predicted_sum,
             'predictedVarianceSum', w.predicted_variance_sum))::text AS nights
    FROM (SELECT a.question_id, count(*)::int AS n,
                 sum(CASE WHEN NOT a.correct THEN 0 WHEN a.hint_used THEN 0.5 ELSE 1 END)::float8 AS credit_sum,
                 sum(a.predicted_correct)::float8 AS predicted_sum,
                 sum(a.predicted_correct * (1 - a.predicted_correct))::float8 AS predicted_variance_sum
          FROM attempts a
          WHERE a.recorded_at > COALESCE(${windowStart}::timestamptz, '-infinity')
            AND a.recorded_at <= ${windowEnd}::timestamptz AND a.predicted_correct IS NOT NULL
          GROUP BY a.question_id) w
    JOIN questions q ON q.id = w.question_id`;
  const nights: QuestionNight[] = row?.nights ? JSON.parse(row.nights) : [];
  if (nights.length === 0) return 0;
  const priors = await SubcategoryPriors.load(tx);
  const refitted = nights.map((night) => {
    const current = questionParameters(
      model,
      {
        band: night.band,
        difficulty: night.difficulty,
        attempts: night.model_attempts,
        information: night.information,
      },
      priors.of(night.subcategory),
    );
    return { id: night.id, ...refitQuestionParameters(model, current, night) };
  });
  return tx.$executeRaw`
    UPDATE questions q
    SET model_difficulty = r.difficulty, model_attempts = r.attempts, model_information = r.information
    FROM json_to_recordset(${JSON.stringify(refitted)}::json)
      AS r(id uuid, difficulty float8, attempts int, information float8)
    WHERE q.id = r.id`;
}

/** A subcategory's stored PFA offsets and the window's evidence on them. */
interface PracticeNight extends PracticeAggregate {
  subcategory: string;
  success_offset: number | null;
  failure_offset: number | null;
  ss: number | null;
  sf: number | null;
  ff: number | null;
}

async function refitPractice(ctx: RunContext): Promise<number> {
  const { tx, windowStart, windowEnd } = ctx;
  const model = ctx.config.learnerModel;
  const s = model.calibrationSlope;
  // The skill state a prediction saw is today's less every attempt recorded from it on (those
  // recorded after the window included): the write path applies attempts in recorded order.
  const nights = await tx.$queryRaw<PracticeNight[]>`
    WITH recent AS (
      SELECT a.user_id, q.subcategory, a.recorded_at, a.predicted_correct AS p,
             (CASE WHEN NOT a.correct THEN 0 WHEN a.hint_used THEN 0.5 ELSE 1 END)::float8 AS credit,
             sum(CASE WHEN NOT a.correct THEN 0 WHEN a.hint_used THEN 0.5 ELSE 1 END) OVER later AS credit_from,
             count(*) OVER later AS attempts_from
      FROM attempts a JOIN questions q ON q.id = a.question_id
      WHERE a.recorded_at > COALESCE(${windowStart}::timestamptz, '-infinity') AND a.predicted_correct IS NOT NULL
      WINDOW later AS (PARTITION BY a.user_id, q.subcategory ORDER BY a.recorded_at DESC, a.id DESC)
    ), features AS (
      SELECT r.subcategory, r.p, r.credit,
             ln(1 + greatest(0, k.credit_sum - r.credit_from)) AS x1,
             ln(1 + greatest(0, (k.attempts - r.attempts_from) - (k.credit_sum - r.credit_from))) AS x2
      FROM recent r JOIN skill_states k ON k.user_id = r.user_id AND k.subcategory = r.subcategory
      WHERE r.recorded_at <= ${windowEnd}::timestamptz
    ), evidence AS (
      SELECT subcategory,
             sum(${s}::float8 * (p - credit) * x1)::float8 AS "successGradient",
             sum(${s}::float8 * (p - credit) * x2)::float8 AS "failureGradient",
             sum(${s * s}::float8 * p * (1 - p) * x1 * x1)::float8 AS "successSuccess",
             sum(${s * s}::float8 * p * (1 - p) * x1 * x2)::float8 AS "successFailure",
             sum(${s * s}::float8 * p * (1 - p) * x2 * x2)::float8 AS "failureFailure"
      FROM features GROUP BY subcategory
    )
    SELECT e.*, p.success_offset, p.failure_offset, p.practice_information_ss AS ss,
           p.practice_information_sf AS sf, p.practice_information_ff AS ff
    FROM evidence e LEFT JOIN subcategory_priors p ON p.subcategory = e.subcategory`;
  if (nights.length === 0) return 0;
  const refitted = nights.map((night) => {
    const current: PracticeOffsets =
      night.ss === null || night.sf === null || night.ff === null
        ? practicePrior(model)
        : {
            successOffset: night.success_offset ?? 0,
            failureOffset: night.failure_offset ?? 0,
            information: [night.ss, night.sf, night.ff],
          };
    const next = refitPracticeOffsets(current, night);
    return {
      subcategory: night.subcategory,
      success: next.successOffset,
      failure: next.failureOffset,
      ss: next.information[0],
      sf: next.information[1],
      ff: next.information[2],
    };
  });
  await tx.$executeRaw`
    INSERT INTO subcategory_priors AS p (subcategory, difficulty, attempts, success_offset, failure_offset,
                                         practice_information_ss, practice_information_sf, practice_information_ff,
                                         updated_at)
    SELECT subcategory, 0, 0, success, failure, ss, sf, ff, ${ctx.at}::timestamptz
    FROM json_to_recordset(${JSON.stringify(refitted)}::json)
      AS r(subcategory text, success float8, failure float8, ss float8, sf float8, ff float8)
    ON CONFLICT (subcategory) DO UPDATE
    SET success_offset = EXCLUDED.success_offset, failure_offset = EXCLUDED.failure_offset,
        practice_information_ss = EXCLUDED.practice_information_ss,
        practice_information_sf = EXCLUDED.practice_information_sf,
        practice_information_ff = EXCLUDED.practice_information_ff, updated_at = EXCLUDED.updated_at`;
  return refitted.length;
}

async function refitPriors(ctx: RunContext): Promise<number> {
  const { tx } = ctx;
  const sums = await tx.$queryRaw<{ subcategory: string; attempts: number; weighted: number }[]>`
    SELECT subcategory, sum(model_attempts)::int AS attempts,
           sum(model_attempts * model_difficulty)::float8 AS weighted
    FROM questions WHERE model_difficulty IS NOT NULL
    GROUP BY subcategory`;
  if (sums.length === 0) return 0;
  const priors = sums.map((s) => ({
    subcategory: s.subcategory,
    ...refitSubcategoryPrior(ctx.config.learnerModel, { attempts: s.attempts, weightedDifficultySum: s.weighted }),
  }));
  return tx.$executeRaw`
    INSERT INTO subcategory_priors (subcategory, difficulty, attempts, updated_at)
    SELECT subcategory, difficulty, attempts, ${ctx.at}::timestamptz
    FROM json_to_recordset(${JSON.stringify(priors)}::json) AS r(subcategory text, difficulty float8, attempts int)
    ON CONFLICT (subcategory) DO UPDATE
    SET difficulty = EXCLUDED.difficulty, attempts = EXCLUDED.attempts, updated_at = EXCLUDED.updated_at`;
}

/** Learners replayed per chunk (one read and one write statement each). */
const replayChunkSize = 1000;

async function replayLearners(ctx: RunContext): Promise<{ learners: number; attempts: number }> {
  const { tx, windowStart, windowEnd } = ctx;
  // Learners with imported attempts in the window get a state row first, so every learner replayed has one to lock.
  const rows = await tx.$queryRaw<{ user_id: string }[]>`
    WITH imported AS (
      SELECT DISTINCT a.user_id FROM attempts a
      WHERE a.recorded_at > COALESCE(${windowStart}::timestamptz, '-infinity')
        AND a.recorded_at <= ${windowEnd}::timestamptz AND a.mastery_after IS NULL),
    created AS (
      INSERT INTO learner_states (user_id) SELECT user_id FROM imported ON CONFLICT DO NOTHING)
    SELECT user_id::text FROM imported
    UNION
    SELECT user_id::text FROM learner_states WHERE replay_from IS NOT NULL
    ORDER BY user_id`;
  const userIds = rows.map((r) => r.user_id);
  if (userIds.length === 0) return { learners: 0, attempts: 0 };
  // Every state locked before any attempt is read, so each read sees every attempt committed before
  // the lock was granted (a recordAttempt of these learners waits for the run's commit either way).
  // Counted, not returned: the first night locks every learner's state.
  await tx.$queryRaw`
    SELECT count(*)::int AS locked FROM (
      SELECT 1 FROM unnest(${userIds}::uuid[]) AS t(id) JOIN learner_states l ON l.user_id = t.id
      ORDER BY l.user_id FOR UPDATE OF l) x`;
  const priors = await SubcategoryPriors.load(tx); // refitted above, before the replay
  const questions = new Map<string, ReplayQuestion>();
  const chunks: string[][] = [];
  for (let i = 0; i < userIds.length; i += replayChunkSize) chunks.push(userIds.slice(i, i + replayChunkSize));
  // Read ahead: the next chunk's attempts are read while this chunk is replayed and written (chunks are
  // distinct learners, and the replay writes only their states).
  let attempts = 0;
  await readingAhead(
    chunks,
    (chunk) => readReplayChunk(tx, chunk, questions),
    async (chunk, read) => {
      await replayChunk(tx, ctx.config.learnerModel, chunk, read, questions, priors);
      attempts += read.length;
    },
  );
  return { learners: userIds.length, attempts };
}

/** An attempt as the replay reads it: [userId, questionId, credit, atMs]. */
type ReplayRow = [string, string, number, number];

/** A question as the replay reads it (refitted): [subcategory, band, difficulty, attempts, information]. */
type ReplayQuestion = [string, DifficultyBand, number | null, number, number | null];

/** A chunk's attempts in the model's time order, their questions added to `questions` (each once a run). */
async function readReplayChunk(
  tx: Transaction,
  userIds: string[],
  questions: Map<string, ReplayQuestion>,
): Promise<ReplayRow[]> {
  // As one JSON document: PostgreSQL prints float8 in shortest round-trip form, so nothing is lost on
  // the way. Their questions' parameters come apart: with every attempt they were most of the
  // document, and building it took twice as long.
  const [read] = await tx.$queryRaw<{ attempts: string | null }[]>`
    SELECT json_agg(json_build_array(a.user_id, a.question_id,
                                     CASE WHEN NOT a.correct THEN 0 WHEN a.hint_used THEN 0.5 ELSE 1 END,
                                     floor(extract(epoch FROM COALESCE(a.answered_at, a.recorded_at)) * 1000))
                    ORDER BY a.user_id, COALESCE(a.answered_at, a.recorded_at), a.recorded_at, a.id)::text AS attempts
    FROM attempts a
    WHERE a.user_id = ANY(${userIds}::uuid[])`;
  const attempts: ReplayRow[] = read?.attempts ? JSON.parse(read.attempts) : [];
  const missing = [...new Set(attempts.map(([, questionId]) => questionId))].filter((id) => !questions.has(id));
  if (missing.length > 0) {
    const [found] = await tx.$queryRaw<{ questions: string }[]>`
      SELECT coalesce(json_agg(json_build_array(q.id, q.subcategory, q.difficulty_band, q.model_difficulty,
                                                q.model_attempts, q.model_information)), '[]')::text AS questions
      FROM questions q WHERE q.id = ANY(${missing}::uuid[])`;
    for (const [id, ...question] of JSON.parse(found!.questions) as [string, ...ReplayQuestion][]) {
      questions.set(id, question);
    }
  }
  return attempts;
}

/** Replays a chunk's attempts (read by readReplayChunk) and writes its learners' states. */
async function replayChunk(
  tx: Transaction,
  model: LearnerModelParameters,
  userIds: string[],
  attempts: ReplayRow[],
  questions: ReadonlyMap<string, ReplayQuestion>,
  priors: SubcategoryPriors,
): Promise<void> {
  const states = new Map<
    string,
    {
      learner: LearnerAbility;
      skills: Map<string, SkillState>;
      /** The ability and instant of each skill's last update: its plan mastery is the estimate then. */
      lastUpdate: Map<string, { learner: LearnerAbility; atMs: number }>;
      answers: Map<string, PreviousAnswer>;
      at: number | null;
    }
  >(
    userIds.map((id) => [
      id,
      { learner: newLearnerAbility(), skills: new Map(), lastUpdate: new Map(), answers: new Map(), at: null },
    ]),
  );
  for (const [userId, questionId, credit, atMs] of attempts) {
    const [subcategory, band, difficulty, questionAttempts, information] = questions.get(questionId)!;
    const state = states.get(userId)!;
    const prior = priors.of(subcategory);
    const question = questionParameters(model, { band, difficulty, attempts: questionAttempts, information }, prior);
    const update = updateAfterAttempt(
      model,
      state.learner,
      state.skills.get(subcategory) ?? null,
      question,
      prior,
      credit,
      atMs,
      state.answers.get(questionId) ?? null,
    );
    state.answers.set(questionId, answerAfter(state.answers.get(questionId) ?? null, credit, atMs));
    state.learner = update.learner;
    state.skills.set(subcategory, update.skill);
    state.lastUpdate.set(subcategory, { learner: update.learner, atMs });
    state.at = atMs;
  }
  const learners = [...states].map(([userId, s]) => ({
    u: userId,
    theta: s.learner.theta,
    attempts: s.learner.attempts,
    recent: s.learner.recent,
    recent_weight_offset: s.learner.recentWeightOffset,
    at: s.at === null ? null : new Date(s.at).toISOString(),
  }));
  const skills = [...states].flatMap(([userId, s]) =>
    [...s.skills].map(([subcategory, skill]) => {
      const last = s.lastUpdate.get(subcategory)!;
      return {
        u: userId,
        s: subcategory,
        theta: skill.theta,
        attempts: skill.attempts,
        credit: skill.creditSum,
        recent: skill.recent,
        last: skill.lastAttemptAt === null ? null : new Date(skill.lastAttemptAt).toISOString(),
        plan: estimate(model, last.learner, skill, priors.of(subcategory), last.atMs),
      };
    }),
  );
  // The chunk's states in one statement: learners, their skills, and skills no attempt supports any more.
  await tx.$executeRaw`
    WITH learners AS (
      UPDATE learner_states l
      SET theta = r.theta, attempts = r.attempts, recent = r.recent, recent_weight_offset = r.recent_weight_offset,
          version = l.version + 1, state_at = r.at, replay_from = NULL, updated_at = now()
      FROM json_to_recordset(${JSON.stringify(learners)}::json)
        AS r(u uuid, theta float8, attempts int, recent float8, recent_weight_offset float8, at timestamptz)
      WHERE l.user_id = r.u),
    skills AS (
      SELECT * FROM json_to_recordset(${JSON.stringify(skills)}::json)
        AS r(u uuid, s text, theta float8, attempts int, credit float8, recent float8, last timestamptz,
             plan float8)),
    removed AS (
      DELETE FROM skill_states k WHERE k.user_id = ANY(${userIds}::uuid[])
        AND NOT EXISTS (SELECT 1 FROM skills r WHERE r.u = k.user_id AND r.s = k.subcategory))
    INSERT INTO skill_states AS k (user_id, subcategory, theta, attempts, credit_sum, recent, last_attempt_at,
                                   updated_at, plan_mastery)
    SELECT u, s, theta, attempts, credit, recent, last, now(), plan FROM skills
    ON CONFLICT (user_id, subcategory) DO UPDATE
    SET theta = EXCLUDED.theta, attempts = EXCLUDED.attempts, credit_sum = EXCLUDED.credit_sum,
        recent = EXCLUDED.recent, last_attempt_at = EXCLUDED.last_attempt_at, updated_at = EXCLUDED.updated_at,
        plan_mastery = EXCLUDED.plan_mastery`;
}
