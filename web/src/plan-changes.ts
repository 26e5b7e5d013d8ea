// What a plan adjustment changed, in a sentence or two a learner reads.
export interface UnitSnapshot {
  subcategory: string;
  targetQuestions: number;
  priority: number;
  reason: string;
  status: string;
}

export interface Adjustment {
  trigger: string;
  before: UnitSnapshot[];
  after: UnitSnapshot[];
}

const triggers: Record<string, string> = {
  SESSION_END: 'A session just ended',
  NIGHTLY: 'The nightly plan was rebuilt',
  MANUAL: 'A unit was marked',
};

/** Each change as a phrase ("Algebra 10 → 14 questions: <reason>"), and why the plan changed. */
export function describeAdjustment(adjustment: Adjustment): { why: string; changes: string[] } {
  const before = new Map(adjustment.before.map((unit) => [unit.subcategory, unit]));
  const after = new Map(adjustment.after.map((unit) => [unit.subcategory, unit]));
  const changes: string[] = [];
  for (const unit of adjustment.after) {
    const old = before.get(unit.subcategory);
    if (!old) changes.push(`${unit.subcategory} added with ${unit.targetQuestions} questions: ${unit.reason}`);
    else if (old.targetQuestions !== unit.targetQuestions)
      changes.push(`${unit.subcategory} ${old.targetQuestions} → ${unit.targetQuestions} questions: ${unit.reason}`);
    else if (old.status !== unit.status) changes.push(`${unit.subcategory} marked ${unit.status.toLowerCase()}`);
    else if (old.priority !== unit.priority)
      changes.push(`${unit.subcategory} moved from priority ${old.priority} to ${unit.priority}`);
  }
  for (const unit of adjustment.before) {
    if (!after.has(unit.subcategory))
      changes.push(`${unit.subcategory} removed (was ${unit.targetQuestions} questions)`);
  }
  return { why: triggers[adjustment.trigger] ?? adjustment.trigger, changes };
}
