// Which questions a learner should answer next. Pure: the caller predicts P(correct) for every
// candidate with the live learner model (src/domain/learner-model.ts) and says how far each
// subcategory's estimate has decayed since it was last practised; this decides.
//
// Order of preference, in this order:
//  1. Reviews: a subcategory whose estimate has fallen by at least `reviewDecay` since its last
//     practice gets its best question first (most decayed first), up to `maxReviewShare` of the picks.
//  2. Then the subcategories take turns (the one with the fewest picks so far goes next, so no
//     subcategory gets two in a row while another still has questions), each offering its best
//     question: not answered within `recentHours` before one that was, then the prediction nearest
//     the target success rate, then the question id (so the same state always gives the same picks).

export interface QuestionCandidate {
  questionId: string;
  subcategory: string;
  /** The model's P(correct) for this learner on this question now. */
  predictedCorrect: number;
  /** When this learner last answered this question (null: never). */
  lastAnsweredAt: Date | null;
}

export interface SubcategoryDecay {
  subcategory: string;
  /** The estimate when last practised, without forgetting. */
  estimateAtPractice: number;
  /** The estimate now, forgetting applied. */
  estimateNow: number;
}

export interface NextQuestionsParameters {
  /** The success rate the picks aim at (0..1). */
  targetSuccess: number;
  /** A question answered within this many hours is picked only when nothing fresher is left. */
  recentHours: number;
  /** A fall of the estimate by at least this much since the last practice makes a review. */
  reviewDecay: number;
  /** At most this share of the picks (at least one, when any is due) are reviews. */
  maxReviewShare: number;
}

export const nextQuestionsDefaults: Readonly<Omit<NextQuestionsParameters, 'targetSuccess'>> = Object.freeze({
  recentHours: 24,
  reviewDecay: 0.05,
  maxReviewShare: 0.34,
});

export interface QuestionPick {
  questionId: string;
  subcategory: string;
  predictedCorrect: number;
  reason: string;
}

const hourMs = 3_600_000;

/** Up to `count` distinct questions in the order they should be asked. */
export function pickNextQuestions(
  candidates: readonly QuestionCandidate[],
  decays: readonly SubcategoryDecay[],
  count: number,
  now: Date,
  params: NextQuestionsParameters,
): QuestionPick[] {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be an integer ≥ 0, got ${count}`);
  if (!(params.targetSuccess > 0 && params.targetSuccess < 1)) {
    throw new RangeError(`targetSuccess must lie in (0, 1), got ${params.targetSuccess}`);
  }
  const recentSince = now.getTime() - params.recentHours * hourMs;
  const isRecent = (c: QuestionCandidate) => c.lastAnsweredAt !== null && c.lastAnsweredAt.getTime() > recentSince;
  const key = (c: QuestionCandidate) => ({
    recent: isRecent(c) ? 1 : 0,
    distance: Math.abs(c.predictedCorrect - params.targetSuccess),
  });
  const better = (a: QuestionCandidate, b: QuestionCandidate) => {
    const ka = key(a);
    const kb = key(b);
    return ka.recent - kb.recent || ka.distance - kb.distance || byName(a.questionId, b.questionId);
  };

  // One queue per subcategory, best question first; a question listed twice counts once.
  const queues = new Map<string, QuestionCandidate[]>();
  const seen = new Set<string>();
  for (const candidate of candidates) {
    if (seen.has(candidate.questionId)) continue;
    seen.add(candidate.questionId);
    const queue = queues.get(candidate.subcategory) ?? [];
    queue.push(candidate);
    queues.set(candidate.subcategory, queue);
  }
  for (const queue of queues.values()) queue.sort(better);

  const picks: QuestionPick[] = [];
  const picked = new Map<string, number>();
  const take = (subcategory: string, reason: (c: QuestionCandidate) => string) => {
    const candidate = queues.get(subcategory)!.shift()!;
    picked.set(subcategory, (picked.get(subcategory) ?? 0) + 1);
    picks.push({
      questionId: candidate.questionId,
      subcategory,
      predictedCorrect: candidate.predictedCorrect,
      reason: reason(candidate),
    });
  };

  const reviews = decays
    .filter((d) => queues.has(d.subcategory) && d.estimateAtPractice - d.estimateNow >= params.reviewDecay)
    .sort(
      (a, b) =>
        b.estimateAtPractice - b.estimateNow - (a.estimateAtPractice - a.estimateNow) ||
        byName(a.subcategory, b.subcategory),
    );
  const reviewSlots = Math.min(count, Math.max(1, Math.floor(count * params.maxReviewShare)));
  for (const review of reviews.slice(0, reviewSlots)) {
    take(
      review.subcategory,
      () => `review: estimate fell from ${percent(review.estimateAtPractice)} to ${percent(review.estimateNow)}`,
    );
  }

  while (picks.length < count) {
    let next: string | null = null;
    for (const [subcategory, queue] of queues) {
      if (queue.length === 0) continue;
      if (next === null) {
        next = subcategory;
        continue;
      }
      const turns = (picked.get(subcategory) ?? 0) - (picked.get(next) ?? 0);
      if (turns < 0 || (turns === 0 && better(queue[0]!, queues.get(next)![0]!) < 0)) next = subcategory;
    }
    if (next === null) break;
    take(next, (c) => reasonFor(c, isRecent(c), params.targetSuccess));
  }
  return picks;
}

function reasonFor(candidate: QuestionCandidate, recent: boolean, target: number): string {
  const fit = `predicted ${percent(candidate.predictedCorrect)} against the target ${percent(target)}`;
  if (recent) return `${fit}; answered recently, nothing fresher left in ${candidate.subcategory}`;
  if (candidate.lastAnsweredAt === null) return `${fit}; new to you`;
  return fit;
}

// Code-unit order, not localeCompare: the same on every machine and locale.
function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function percent(value: number): string {
  return `${Math.round(value * 100)}%`;
}
