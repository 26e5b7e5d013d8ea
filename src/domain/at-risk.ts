// Why a learner of the cohort overview is at risk: the sentence a coach reads (pure).

/** One half of a cohort overview's range: its days and the learner's attempts in it. */
export interface RangeHalf {
  from: string;
  to: string;
  attempts: number;
  correct: number;
}

const percent = (fraction: number) => `${Math.round(fraction * 100)}%`;

/** A sentence a coach reads: what dropped, from what to what, over which days. */
export function riskReason(
  accuracyDropped: boolean,
  activityDropped: boolean,
  first: RangeHalf,
  second: RangeHalf,
): string {
  if (activityDropped && second.attempts === 0) {
    return (
      `Stopped practising: ${first.attempts} attempts in ${first.from}..${first.to}, ` +
      `none in ${second.from}..${second.to}.`
    );
  }
  const parts: string[] = [];
  if (accuracyDropped) {
    const before = first.correct / first.attempts;
    const after = second.correct / second.attempts;
    parts.push(
      `accuracy fell from ${percent(before)} to ${percent(after)} (−${Math.round((before - after) * 100)} points)`,
    );
  }
  if (activityDropped) {
    parts.push(
      `attempts fell from ${first.attempts} to ${second.attempts} (−${percent(1 - second.attempts / first.attempts)})`,
    );
  }
  const text = `${parts.join(' and ')} from ${first.from}..${first.to} to ${second.from}..${second.to}.`;
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
}
