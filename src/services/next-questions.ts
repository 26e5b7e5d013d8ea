// nextQuestions: the questions a session's learner should answer next (docs/learner-model-api.md).
// Six statements whatever the bank holds (the session; the candidates, each with the learner's last
// answer to it; the learner's state, two; the priors; the picked questions): the live model predicts
// every candidate and the pure pickNextQuestions (src/domain/next-questions.ts) decides.
import type { Viewer } from '../auth.ts';
import type { Database } from '../db/client.ts';
import { addDays, localDate } from '../domain/calendar.ts';
import { type AdaptationSettings, estimate, predictCorrect } from '../domain/learner-model.ts';
import { nextQuestionsDefaults, pickNextQuestions, type SubcategoryDecay } from '../domain/next-questions.ts';
import type { DifficultyBand } from '../domain/types.ts';
import { forbidden, notFound } from '../errors.ts';
import type { Question } from '../generated/prisma/client.ts';
import { learnerModelStates, questionParameters, SubcategoryPriors } from './learner-state.ts';

export interface NextQuestion {
  question: Question;
  predictedCorrect: number;
  reason: string;
}

/** The most questions one call returns. */
export const maxNextQuestions = 50;

export async function nextQuestions(
  db: Database,
  viewer: Viewer,
  sessionId: string,
  count: number,
  adaptation: AdaptationSettings,
  now = new Date(),
): Promise<NextQuestion[]> {
  const [session] = await db.prisma.$queryRaw<{ user_id: string; units: string[]; timezone: string }[]>`
    SELECT s.user_id::text, s.units, u.timezone FROM sessions s JOIN users u ON u.id = s.user_id
    WHERE s.id = ${sessionId}::uuid`;
  if (!session) throw notFound('This session');
  if (viewer.role === 'LEARNER' && viewer.userId !== session.user_id)
    throw forbidden("This session belongs to another learner: ask for your own sessions' next questions.");
  const userId = session.user_id;
  // The session's units, else those of the learner's latest plan up to tomorrow (their time zone),
  // else the whole bank (a first session of a learner without a plan).
  const tomorrow = addDays(localDate(now, session.timezone), 1);
  const candidates = await db.prisma.$queryRaw<
    {
      id: string;
      subcategory: string;
      band: DifficultyBand;
      model_difficulty: number | null;
      model_attempts: number;
      model_information: number | null;
      last_answered_at: Date | null;
      last_credit: number | null;
      answers: number | null;
      credit_sum: number | null;
    }[]
  >`
    WITH plan AS (
      SELECT array_agg(unit->>'subcategory') AS units
      FROM (SELECT p.after FROM plan_adjustments p
            WHERE p.user_id = ${userId}::uuid AND p.plan_date <= ${tomorrow}::date
            ORDER BY p.plan_date DESC, p.version DESC LIMIT 1) latest,
           json_array_elements(latest.after) AS unit),
    units AS (SELECT COALESCE(NULLIF(${session.units}::text[], '{}'), (SELECT units FROM plan)) AS units)
    SELECT q.id::text, q.subcategory, q.difficulty_band::text AS band, q.model_difficulty, q.model_attempts,
           q.model_information, last.at AS last_answered_at, last.credit AS last_credit, last.answers,
           last.credit_sum
    FROM questions q CROSS JOIN units
    LEFT JOIN LATERAL (SELECT COALESCE(a.answered_at, a.recorded_at) AS at,
                              CASE WHEN NOT a.correct THEN 0 WHEN a.hint_used THEN 0.5 ELSE 1 END::float8 AS credit,
                              (count(*) OVER ())::int AS answers,
                              (sum(CASE WHEN NOT a.correct THEN 0 WHEN a.hint_used THEN 0.5 ELSE 1 END) OVER ())::float8
                                AS credit_sum
                       FROM attempts a WHERE a.user_id = ${userId}::uuid AND a.question_id = q.id
                       ORDER BY a.attempt_no DESC LIMIT 1) last ON true
    WHERE units.units IS NULL OR q.subcategory = ANY(units.units)`;
  const state = (await learnerModelStates(db.prisma, [userId])).get(userId)!;
  const priors = await SubcategoryPriors.load(db.prisma);
  const model = adaptation.learnerModel;
  const nowMs = now.getTime();

  const predicted = candidates.map((c) => {
    const prior = priors.of(c.subcategory);
    const question = questionParameters(
      model,
      { band: c.band, difficulty: c.model_difficulty, attempts: c.model_attempts, information: c.model_information },
      prior,
    );
    const skill = state.skills.get(c.subcategory) ?? null;
    return {
      questionId: c.id,
      subcategory: c.subcategory,
      predictedCorrect: predictCorrect(
        model,
        state.learner,
        skill,
        question,
        prior,
        nowMs,
        c.last_answered_at && c.last_credit !== null
          ? {
              credit: c.last_credit,
              atMs: c.last_answered_at.getTime(),
              attempts: c.answers ?? 1,
              creditSum: c.credit_sum ?? c.last_credit,
            }
          : null,
      ),
      lastAnsweredAt: c.last_answered_at,
    };
  });
  const decays: SubcategoryDecay[] = [];
  for (const skill of state.skills.values()) {
    if (skill.lastAttemptAt === null) continue;
    const prior = priors.of(skill.subcategory);
    decays.push({
      subcategory: skill.subcategory,
      estimateAtPractice: estimate(model, state.learner, skill, prior, skill.lastAttemptAt),
      estimateNow: estimate(model, state.learner, skill, prior, nowMs),
    });
  }
  const picks = pickNextQuestions(predicted, decays, count, now, {
    ...nextQuestionsDefaults,
    targetSuccess: adaptation.targetSuccess,
  });
  const questions = await db.prisma.question.findMany({ where: { id: { in: picks.map((p) => p.questionId) } } });
  const byId = new Map(questions.map((q) => [q.id, q]));
  return picks.map((pick) => ({
    question: byId.get(pick.questionId)!,
    predictedCorrect: pick.predictedCorrect,
    reason: pick.reason,
  }));
}
