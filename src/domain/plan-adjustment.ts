// SPEC 5 — a learner's plan from what is known of them: the nightly rebuild and the session-end
// adjustment are the same pure function. With a session just ended, its attempts update mastery
// provisionally (the nightly EWMA step, src/domain/mastery.ts; nothing is stored from it) and weigh
// its subcategories by their session accuracy; the allocation itself is allocatePlan.
import { type MasteryAttempt, provisionalMastery } from './mastery.ts';
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
  /** The learner's stored mastery scores; a subcategory absent here was never scored. */
  mastery: ReadonlyMap<string, number>;
  /** When the learner last practised each subcategory; absent: never. */
  lastPractice: ReadonlyMap<string, Date>;
  /** The instant the plan is made at (days since practice are counted to it). */
  now: Date;
  /** The attempts of the session just ended, if the plan is adjusted from one. */
  sessionAttempts?: readonly MasteryAttempt[];
}

/** The per-subcategory inputs of the allocation, after the session's provisional update. */
export function planStates(input: LearnerPlanInput): SubcategoryState[] {
  const session = input.sessionAttempts ?? [];
  const mastery = session.length > 0 ? provisionalMastery(input.mastery, session) : input.mastery;
  const sessionAccuracy = accuracyBySubcategory(session);
  return [...input.importance].map(([subcategory, importance]) => {
    const last = input.lastPractice.get(subcategory);
    return {
      subcategory,
      importance,
      mastery: mastery.get(subcategory) ?? null,
      daysSincePractice: last ? Math.max(0, Math.floor((input.now.getTime() - last.getTime()) / dayMs)) : null,
      sessionAccuracy: sessionAccuracy.get(subcategory) ?? null,
    };
  });
}

/** The units of the learner's plan for planDate, in priority order. */
export function learnerPlan(input: LearnerPlanInput): PlannedUnit[] {
  return allocatePlan({ budget: input.budget, planDate: input.planDate, subcategories: planStates(input) });
}
