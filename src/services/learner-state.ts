// The live learner model's stored state (prisma/schema.prisma: learner_states, skill_states,
// subcategory_priors, questions.model_*) as the pure model (src/domain/learner-model.ts) takes it,
// read set-based for many learners at once: the API's estimates, nextQuestions and the plans.

import type { SqlClient } from '../db/types.ts';
import {
  estimate,
  type LearnerAbility,
  type LearnerModelParameters,
  newLearnerAbility,
  newSubcategoryPrior,
  type QuestionParameters,
  questionPrior,
  type SkillState,
  type SubcategoryPrior,
} from '../domain/learner-model.ts';
import { masteryDefaults } from '../domain/mastery.ts';
import type { DifficultyBand } from '../domain/types.ts';

/** A question's parameters: the refitted ones, or the prior while it has no data. */
export function questionParameters(
  model: LearnerModelParameters,
  question: { band: DifficultyBand; difficulty: number | null; attempts: number; information: number | null },
  prior: SubcategoryPrior,
): QuestionParameters {
  if (question.difficulty === null) return questionPrior(model, question.band, prior);
  return {
    difficulty: question.difficulty,
    attempts: question.attempts,
    information: question.information ?? model.questionPriorInformation,
  };
}

export interface StoredSkill extends SkillState {
  subcategory: string;
  updatedAt: Date;
}

/** One learner's stored state: absent rows read as a new learner. */
export interface LearnerModelState {
  learner: LearnerAbility;
  skills: Map<string, StoredSkill>;
}

/**
 * The learners' abilities and skills (a learner without state gets a new one), in one statement. The
 * rows come as two JSON documents: a driver row per skill costs more than the statement (a night
 * plans 100,000 learners), and JSON keeps float8 exact (PostgreSQL prints shortest round-trip digits).
 */
export async function learnerModelStates(
  client: SqlClient,
  userIds: readonly string[],
): Promise<Map<string, LearnerModelState>> {
  const states = new Map<string, LearnerModelState>(
    userIds.map((id) => [id, { learner: newLearnerAbility(), skills: new Map() }]),
  );
  if (userIds.length === 0) return states;
  const [row] = await client.$queryRaw<
    {
      learners: [string, number, number, number, number][];
      skills: [string, string, number, number, number, number, string | null, string][];
    }[]
  >`
    SELECT
      (SELECT coalesce(json_agg(json_build_array(user_id, theta, attempts, recent, recent_weight_offset)), '[]')
       FROM learner_states WHERE user_id = ANY(${userIds}::uuid[])) AS learners,
      (SELECT coalesce(json_agg(json_build_array(user_id, subcategory, theta, attempts, credit_sum, recent,
                                                 last_attempt_at, updated_at) ORDER BY user_id, subcategory), '[]')
       FROM skill_states WHERE user_id = ANY(${userIds}::uuid[])) AS skills`;
  for (const [userId, theta, attempts, recent, recentWeightOffset] of row!.learners)
    states.get(userId)!.learner = { theta, attempts, recent, recentWeightOffset };
  for (const [userId, subcategory, theta, attempts, creditSum, recent, lastAttemptAt, updatedAt] of row!.skills) {
    states.get(userId)!.skills.set(subcategory, {
      subcategory,
      theta,
      attempts,
      creditSum,
      recent,
      lastAttemptAt: lastAttemptAt === null ? null : Date.parse(lastAttemptAt),
      updatedAt: new Date(updatedAt),
    });
  }
  return states;
}

/** Every subcategory's prior (a small table: one row per subcategory); absent ones are new. */
export class SubcategoryPriors {
  constructor(private readonly priors: ReadonlyMap<string, SubcategoryPrior>) {}

  static async load(client: SqlClient): Promise<SubcategoryPriors> {
    const rows = await client.$queryRaw<({ subcategory: string } & SubcategoryPrior)[]>`
      SELECT subcategory, difficulty, attempts, success_offset AS "successOffset", failure_offset AS "failureOffset"
      FROM subcategory_priors`;
    return new SubcategoryPriors(new Map(rows.map(({ subcategory, ...prior }) => [subcategory, prior])));
  }

  of(subcategory: string): SubcategoryPrior {
    return this.priors.get(subcategory) ?? newSubcategoryPrior();
  }
}

/** The live estimate of a subcategory now (Mastery.estimate): a typical question, forgetting applied. */
export function liveEstimate(
  model: LearnerModelParameters,
  state: LearnerModelState,
  subcategory: string,
  priors: SubcategoryPriors,
  now: Date,
): number {
  return estimate(model, state.learner, state.skills.get(subcategory) ?? null, priors.of(subcategory), now.getTime());
}

/** A learner's standing in one subcategory: the nightly EWMA (SPEC 3) beside the live estimate. */
export interface MasteryView {
  subcategory: string;
  /** The nightly EWMA; the prior the EWMA starts from (0.5) while NIGHTLY has not scored it yet. */
  score: number;
  attemptsCount: number;
  lastPracticedAt: Date | null;
  /** When NIGHTLY last scored it (estimateUpdatedAt while it has not). */
  updatedAt: Date;
  /** The live P(correct) on a typical question of the subcategory now, forgetting applied. */
  estimate: number;
  /** The last attempt that moved the live state here (null: none yet; the estimate borrows the ability). */
  estimateUpdatedAt: Date | null;
}

/**
 * Every subcategory each learner has a nightly score or a live state for, by subcategory name:
 * three statements for any number of learners (scores, states, priors).
 */
export async function learnerMasteries(
  client: SqlClient,
  model: LearnerModelParameters,
  userIds: readonly string[],
  now: Date,
): Promise<MasteryView[][]> {
  const scores = await client.$queryRaw<
    {
      user_id: string;
      subcategory: string;
      score: number;
      attempts_count: number;
      last_practiced_at: Date | null;
      updated_at: Date;
    }[]
  >`
    SELECT user_id::text, subcategory, score, attempts_count, last_practiced_at, updated_at
    FROM masteries WHERE user_id = ANY(${userIds}::uuid[])`;
  const states = await learnerModelStates(client, userIds);
  const priors = await SubcategoryPriors.load(client);
  const scored = new Map(scores.map((row) => [`${row.user_id}|${row.subcategory}`, row]));
  return userIds.map((userId) => {
    const state = states.get(userId)!;
    const subcategories = new Set(state.skills.keys());
    for (const row of scores) if (row.user_id === userId) subcategories.add(row.subcategory);
    return [...subcategories].sort(byName).map((subcategory) => {
      const row = scored.get(`${userId}|${subcategory}`);
      const skill = state.skills.get(subcategory);
      const estimateUpdatedAt = skill?.updatedAt ?? null;
      return {
        subcategory,
        score: row?.score ?? masteryDefaults.prior,
        attemptsCount: row?.attempts_count ?? 0,
        lastPracticedAt: row?.last_practiced_at ?? null,
        updatedAt: row?.updated_at ?? estimateUpdatedAt!,
        estimate: liveEstimate(model, state, subcategory, priors, now),
        estimateUpdatedAt,
      };
    });
  });
}

// Code-unit order, not localeCompare: the same on every machine and locale.
function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
