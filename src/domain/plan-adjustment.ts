// SPEC 5 — a learner's plan from what is known of them: the nightly rebuild and the session-end
// adjustment are the same pure function. Mastery is the live learner model's estimate as it stood
// right after the learner's last attempt in the subcategory (src/domain/learner-model.ts), which every
// attempt has already moved, so a session just ended only weighs its subcategories by their session
// accuracy; the allocation itself is allocatePlan. A plan is made from what the learner has shown,
// not from the clock: the clock enters only through review (docs/nightly-incremental.md).
import type { MasteryAttempt } from './mastery.ts';
import { allocatePlan, type PlannedUnit, type SubcategoryState } from './plan.ts';
import { accuracyBySubcategory } from './session-summary.ts';

const dayMs = 86_400_000;

export interface LearnerPlanInput {
  /** The learner's dailyQuestionBudget. */
  budget: number;
  /** YYYY-MM-DD, the day the plan is for. */
  planDate: string;
  /** Every subcategory of the question bank with its importance (0..1). */
  importance: ReadonlyMap<string, number>;
  /**
   * The learner's plan mastery: the live estimate right after their last attempt in the subcategory
   * (no forgetting; the session's attempts included), or the nightly score where the model holds no
   * state yet; a subcategory absent here is unknown (the prior).
   */
  mastery: ReadonlyMap<string, number>;
  /** When the learner last practised each subcategory; absent: never. */
  lastPractice: ReadonlyMap<string, Date>;
  /** The instant the plan is made at (days since practice are counted to it). */
  now: Date;
  /** The attempts of the session just ended, if the plan is adjusted from one. */
  sessionAttempts?: readonly MasteryAttempt[];
}

/** The per-subcategory inputs of the allocation. */
export function planStates(input: LearnerPlanInput): SubcategoryState[] {
  const { mastery } = input;
  const sessionAccuracy = accuracyBySubcategory(input.sessionAttempts ?? []);
  return [...input.importance].map(([subcategory, importance]) => {
    const last = input.lastPractice.get(subcategory);
    return {
      subcategory,
      importance,
      mastery: mastery.get(subcategory) ?? null,
      daysSincePractice: last ? Math.max(0, Math.floor((input.now.getTime() - last.getTime()) / dayMs)) : null,
      lastPracticedOn: last ? last.toISOString().slice(0, 10) : null,
      sessionAccuracy: sessionAccuracy.get(subcategory) ?? null,
    };
  });
}

/** The units of the learner's plan for planDate, in priority order. */
export function learnerPlan(input: LearnerPlanInput): PlannedUnit[] {
  return allocatePlan({ budget: input.budget, planDate: input.planDate, subcategories: planStates(input) });
}
