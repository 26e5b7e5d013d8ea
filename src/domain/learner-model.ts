// The live learner model (issue 11): P(correct | learner, question, now) before an attempt and the
// learner's new state after it. Pure, numbers only (times are epoch milliseconds), every state
// JSON-serialisable. docs/learner-model.md says what it is, why, and how it was measured.
//
// An Elo / IRT-style logistic model (Pelánek 2016) with PFA-style practice terms (Pavlik et al.
// 2009), forgetting by time since last practice and the learner's previous answer to the question:
//
//   z = θ(learner) + δ(learner, subcategory) − b(question)
//       + (successWeight + γ_s) · ln(1 + successes) + (failureWeight + ρ_s) · ln(1 + failures)
//       − forgettingRate · log2(1 + idle / scale)
//       + (repeatWeight · 2^(−hours since / repeatHalfLifeHours)
//          + shortRepeatWeight · 2^(−hours since / shortRepeatHalfLifeHours)) · (2·previous credit − 1)
//       + itemSuccessWeight · ln(1 + successes on the question) + itemFailureWeight · ln(1 + failures there)
//       + (recentWeight + μ) · (2·r_skill − 1) + learnerRecentWeight · (2·r_learner − 1)
//   P = σ(calibrationSlope · z + calibrationLowSlope · min(z, 0) + Σ bend_k · min(z − knot_k, 0) + intercept)
//
// r_skill and r_learner are recency-weighted success rates (R-PFA, Galyardt & Goldin 2015) in the
// subcategory and over all the learner's attempts: r += rate · (credit − r), from 0.5.
// θ is the learner's global ability, δ their offset in one subcategory (0 for a subcategory never
// practised: it borrows the global ability), b the question's difficulty (a question without data
// starts at its subcategory's typical difficulty plus its band's offset); the last term is the
// learner's previous answer to the same question, when there is one. After an attempt with
// credit c (1, 0.5 with a hint, 0): θ += K_θ(n_θ)·g·(c − P), δ += K_δ(n_δ)·g·(c − P), with the
// uncertainty-scaled steps K(n) = k / (1 + decay·n) and g = I / (I + questionUncertainty), I the
// question's information: a surprise on a question whose difficulty is still uncertain says less
// about the learner (Glickman 1999); μ, the learner's own offset to the recency weight, moves by
// recentWeightK·g·(c − P)·(2·r_skill − 1): how much a learner's latest answers say about their next is
// their own (individual students' parameters: Yudelson, Koedinger & Gordon 2013; Khajah, Lindsey &
// Mozer 2016). Question difficulties never move on the write
// path: NIGHTLY refits them (refitQuestionParameters) from aggregates of the night's attempts.

import type { DifficultyBand } from './types.ts';

export interface LearnerModelParameters {
  /** K of the global ability: abilityK / (1 + abilityKDecay · attempts so far). */
  abilityK: number;
  abilityKDecay: number;
  /** K of the learner × subcategory offset: skillK / (1 + skillKDecay · attempts in the subcategory). */
  skillK: number;
  skillKDecay: number;
  /**
   * PFA-style practice terms (Pavlik et al. 2009): + successWeight · ln(1 + credits earned in the
   * subcategory) + failureWeight · ln(1 + credits missed there). successWeight ≥ 0.
   */
  successWeight: number;
  failureWeight: number;
  /**
   * The learner's previous answer to the same question: + repeatWeight · (2·credit − 1) of logit
   * (a wrong one lowers), halving every repeatHalfLifeHours since it was given.
   */
  repeatWeight: number;
  repeatHalfLifeHours: number;
  /**
   * A second time scale of the same memory (minutes where the first is days): an answer given moments
   * ago (an immediate retry, a problem logged once per skill) says far more than one of yesterday.
   */
  shortRepeatWeight: number;
  shortRepeatHalfLifeHours: number;
  /** Logit lost to forgetting: forgettingRate · log2(1 + idle hours / forgettingScaleHours). */
  forgettingRate: number;
  forgettingScaleHours: number;
  /** Item-level counts of the learner on this question: + weight · ln(1 + credits earned / missed there). */
  itemSuccessWeight: number;
  itemFailureWeight: number;
  /**
   * R-PFA: + recentWeight · (2r − 1), r the recency-weighted success rate in the subcategory
   * (r += recentRate · (credit − r), from 0.5). recentWeight ≥ 0, recentRate in [0, 1].
   */
  recentWeight: number;
  recentRate: number;
  /** The same over all the learner's attempts. */
  learnerRecentWeight: number;
  learnerRecentRate: number;
  /**
   * Step of the learner's own offset to recentWeight (LearnerAbility.recentWeightOffset): for some
   * learners the latest answers in a subcategory say much more about the next than for others.
   */
  recentWeightK: number;
  /** Glicko-like: the steps are scaled by information / (information + questionUncertainty) of the question. */
  questionUncertainty: number;
  /** Difficulty of a question without data, relative to its subcategory's typical difficulty. */
  bandOffset: Record<DifficultyBand, number>;
  /** Prior information (inverse variance, logit⁻²) of a question's difficulty around its prior. */
  questionPriorInformation: number;
  /** Pseudo-attempts pulling a subcategory's typical difficulty toward 0 (the mean learner). */
  subcategoryPriorAttempts: number;
  /** Prior information (inverse variance) of each subcategory's PFA offsets around 0. */
  practicePriorInformation: number;
  /** Platt scaling of the logit, fitted on training learners. */
  calibrationSlope: number;
  calibrationIntercept: number;
  /**
   * Added to the slope below z = 0 (the low predictions are often off in another way than the many
   * high ones); with calibrationBends, every piece's slope stays positive (calibrationIncreases).
   */
  calibrationLowSlope: number;
  /**
   * Further bends of the calibration: calibrationBends[k] is added to the slope below
   * calibrationKnots[k] (so the calibration is any increasing piecewise-linear map of the logit with
   * knots at −2, −1, 0, 1, 2: Platt scaling with the freedom of a coarse isotonic fit).
   */
  calibrationBends: number[];
}

/** Where the calibration may bend besides z = 0 (calibrationBends), in uncalibrated logits. */
export const calibrationKnots: readonly number[] = Object.freeze([-2, -1, 1, 2]);

/**
 * Defaults: the middle of what --fit found on five public data sets and the demo simulation
 * (docs/learner-model.md); `npm run evaluate -- --fit` tunes them on an operator's own log.
 */
export const defaultLearnerModelParameters: Readonly<LearnerModelParameters> = Object.freeze({
  abilityK: 0.35,
  abilityKDecay: 0.025,
  skillK: 0.225,
  skillKDecay: 0.01,
  successWeight: 0.25,
  failureWeight: -0.04,
  repeatWeight: 0.2,
  repeatHalfLifeHours: 48,
  // Off unless a fit finds answers repeated moments apart (of the sets measured, ASSISTments 2009 as exported).
  shortRepeatWeight: 0,
  shortRepeatHalfLifeHours: 0.1,
  forgettingRate: 0.0225,
  forgettingScaleHours: 1,
  itemSuccessWeight: 0.09,
  itemFailureWeight: -0.06,
  recentWeight: 0.13,
  recentRate: 0.8,
  learnerRecentWeight: 0.33,
  learnerRecentRate: 0.26,
  // Off unless a fit finds it (ASSISTments 2009's skill builders: docs/learner-model.md).
  recentWeightK: 0,
  questionUncertainty: 0.5,
  bandOffset: Object.freeze({ EASY: -1, MEDIUM: 0, HARD: 1 }),
  questionPriorInformation: 1,
  subcategoryPriorAttempts: 20,
  practicePriorInformation: 20,
  calibrationSlope: 1,
  calibrationIntercept: 0,
  calibrationLowSlope: 0,
  calibrationBends: Object.freeze([0, 0, 0, 0]) as number[],
});

/** The learner's global ability, one per learner. */
/** How the API adapts to a learner: the live model's hyperparameters and the success rate picks aim at. */
export interface AdaptationSettings {
  learnerModel: LearnerModelParameters;
  /** TARGET_SUCCESS: nextQuestions picks questions whose P(correct) is nearest this. */
  targetSuccess: number;
}

export const defaultTargetSuccess = 0.75;

export const defaultAdaptation: Readonly<AdaptationSettings> = Object.freeze({
  learnerModel: defaultLearnerModelParameters,
  targetSuccess: defaultTargetSuccess,
});

export interface LearnerAbility {
  theta: number;
  attempts: number;
  /** Recency-weighted success rate over all the learner's attempts (0.5 before any). */
  recent: number;
  /** The learner's offset to recentWeight, in every subcategory (0 for a new learner). */
  recentWeightOffset: number;
}

/** One learner in one subcategory. */
export interface SkillState {
  /** Offset to the global ability in this subcategory. */
  theta: number;
  attempts: number;
  /** Sum of the credits earned here (successes, a hinted one counting half). */
  creditSum: number;
  /** Recency-weighted success rate here (0.5 before any attempt). */
  recent: number;
  lastAttemptAt: number | null;
}

/** One question; changed by NIGHTLY only. */
export interface QuestionParameters {
  difficulty: number;
  attempts: number;
  /** Information (inverse variance) of the difficulty: the prior's plus every refit's. */
  information: number;
}

/** A subcategory's typical question difficulty: new questions start from it, estimate() reads it. */
export interface SubcategoryPrior {
  difficulty: number;
  attempts: number;
  /**
   * The subcategory's own PFA weights as offsets to successWeight and failureWeight: Pavlik et al.'s
   * PFA fits γ and ρ per skill, since some skills are learnt from practice faster than others.
   * Refitted by NIGHTLY (refitPracticeOffsets), 0 until then.
   */
  successOffset: number;
  failureOffset: number;
}

export const newLearnerAbility = (): LearnerAbility => ({ theta: 0, attempts: 0, recent: 0.5, recentWeightOffset: 0 });
export const newSkillState = (): SkillState => ({
  theta: 0,
  attempts: 0,
  creditSum: 0,
  recent: 0.5,
  lastAttemptAt: null,
});
export const newSubcategoryPrior = (): SubcategoryPrior => ({
  difficulty: 0,
  attempts: 0,
  successOffset: 0,
  failureOffset: 0,
});

/** The parameters of a question without data: its subcategory's typical difficulty plus its band's offset. */
export function questionPrior(
  params: LearnerModelParameters,
  band: DifficultyBand,
  subcategory: SubcategoryPrior,
): QuestionParameters {
  return {
    difficulty: subcategory.difficulty + params.bandOffset[band],
    attempts: 0,
    information: params.questionPriorInformation,
  };
}

const hourMs = 3_600_000;
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
/** Keeps predictions strictly inside (0, 1) in floating point. */
const bounded = (p: number) => Math.min(1 - 1e-9, Math.max(1e-9, p));

/** Logit lost to forgetting since the last attempt in the subcategory (0 when never practised). */
export function forgettingPenalty(params: LearnerModelParameters, skill: SkillState | null, nowMs: number): number {
  if (skill?.lastAttemptAt == null) return 0;
  const idleHours = Math.max(0, nowMs - skill.lastAttemptAt) / hourMs;
  return params.forgettingRate * Math.log2(1 + idleHours / params.forgettingScaleHours);
}

/** PFA's features of a learner in a subcategory: ln(1 + credits earned), ln(1 + credits missed). */
export function practiceFeatures(skill: SkillState | null): [successes: number, failures: number] {
  if (!skill) return [0, 0];
  return [Math.log1p(skill.creditSum), Math.log1p(Math.max(0, skill.attempts - skill.creditSum))];
}

/** The uncalibrated logit z of a question of the given difficulty (successes and failures in credits). */
function logit(
  params: LearnerModelParameters,
  learner: LearnerAbility,
  skill: SkillState | null,
  difficulty: number,
  nowMs: number,
  subcategory: SubcategoryPrior,
): number {
  let practice = 0;
  if (skill) {
    const [successes, failures] = practiceFeatures(skill);
    practice =
      // Never below 0, in any subcategory: a correct answer must not lower the estimate.
      Math.max(0, params.successWeight + subcategory.successOffset) * successes +
      (params.failureWeight + subcategory.failureOffset) * failures +
      // The learner's weight never below 0 either: r rises with a correct answer.
      Math.max(0, params.recentWeight + learner.recentWeightOffset) * (2 * skill.recent - 1);
  }
  const recent = params.learnerRecentWeight * (2 * learner.recent - 1);
  return learner.theta + (skill?.theta ?? 0) + practice + recent - difficulty - forgettingPenalty(params, skill, nowMs);
}

/** The calibrated logit: an increasing piecewise-linear map of z (knots at 0 and calibrationKnots). */
export function calibratedLogit(params: LearnerModelParameters, z: number): number {
  let logit = params.calibrationSlope * z + params.calibrationLowSlope * Math.min(z, 0) + params.calibrationIntercept;
  params.calibrationBends.forEach((bend, k) => {
    logit += bend * Math.min(z - calibrationKnots[k]!, 0);
  });
  return logit;
}

/** Whether every piece of the calibration rises (a parameters file must keep predictions in the logit's order). */
export function calibrationIncreases(params: LearnerModelParameters): boolean {
  let slope = params.calibrationSlope;
  if (!(slope > 0)) return false;
  const bends = [...params.calibrationBends.map((bend, k) => ({ at: calibrationKnots[k]!, bend }))];
  bends.push({ at: 0, bend: params.calibrationLowSlope });
  for (const { bend } of bends.sort((a, b) => b.at - a.at)) {
    slope += bend;
    if (!(slope > 0)) return false;
  }
  return true;
}

const calibrated = (params: LearnerModelParameters, z: number) => bounded(sigmoid(calibratedLogit(params, z)));

/**
 * P(correct) of the learner on the question at `nowMs`, before the attempt (never depends on its
 * answer). `previous`: the learner's latest earlier answer to this question, if any. Of the
 * subcategory prior only the PFA offsets are read (a question without data comes as questionPrior's
 * parameters).
 */
export function predictCorrect(
  params: LearnerModelParameters,
  learner: LearnerAbility,
  skill: SkillState | null,
  question: QuestionParameters,
  subcategory: SubcategoryPrior,
  nowMs: number,
  previous: PreviousAnswer | null = null,
): number {
  return calibrated(
    params,
    logit(params, learner, skill, question.difficulty, nowMs, subcategory) + repeatTerm(params, previous, nowMs),
  );
}

/** The learner's latest earlier answer to the same question (Attempt: credit and answeredAt). */
export interface PreviousAnswer {
  credit: number;
  atMs: number;
  /** The learner's attempts of the question so far and the credits they earned. */
  attempts: number;
  creditSum: number;
}

/** The learner's answers to a question after one more with `credit` at `atMs`. */
export function answerAfter(previous: PreviousAnswer | null, credit: number, atMs: number): PreviousAnswer {
  return {
    credit,
    atMs,
    attempts: (previous?.attempts ?? 0) + 1,
    creditSum: (previous?.creditSum ?? 0) + credit,
  };
}

function repeatTerm(params: LearnerModelParameters, previous: PreviousAnswer | null, nowMs: number): number {
  if (previous === null) return 0;
  const hours = Math.max(0, nowMs - previous.atMs) / hourMs;
  return (
    (params.repeatWeight * 2 ** (-hours / params.repeatHalfLifeHours) +
      params.shortRepeatWeight * 2 ** (-hours / params.shortRepeatHalfLifeHours)) *
      (2 * previous.credit - 1) +
    params.itemSuccessWeight * Math.log1p(previous.creditSum) +
    params.itemFailureWeight * Math.log1p(Math.max(0, previous.attempts - previous.creditSum))
  );
}

/** P(correct) on a typical question of the subcategory at `nowMs`, forgetting included (Mastery.estimate). */
export function estimate(
  params: LearnerModelParameters,
  learner: LearnerAbility,
  skill: SkillState | null,
  subcategory: SubcategoryPrior,
  nowMs: number,
): number {
  return calibrated(params, logit(params, learner, skill, subcategory.difficulty, nowMs, subcategory));
}

export interface AttemptUpdate {
  learner: LearnerAbility;
  skill: SkillState;
  /** The prediction made before the attempt (Attempt.predictedCorrect). */
  predicted: number;
}

/**
 * The learner's state after an attempt with `credit` (1, 0.5 correct with a hint, 0) at `atMs`.
 * `skill` null: the learner's first attempt in the subcategory; `previous`: their latest earlier
 * answer to this question (null: none).
 */
export function updateAfterAttempt(
  params: LearnerModelParameters,
  learner: LearnerAbility,
  skill: SkillState | null,
  question: QuestionParameters,
  subcategory: SubcategoryPrior,
  credit: number,
  atMs: number,
  previous: PreviousAnswer | null = null,
): AttemptUpdate {
  const predicted = predictCorrect(params, learner, skill, question, subcategory, atMs, previous);
  const certainty =
    params.questionUncertainty > 0 ? question.information / (question.information + params.questionUncertainty) : 1;
  const surprise = certainty * (credit - predicted);
  const current = skill ?? newSkillState();
  return {
    predicted,
    learner: {
      theta: learner.theta + (params.abilityK / (1 + params.abilityKDecay * learner.attempts)) * surprise,
      attempts: learner.attempts + 1,
      recent: learner.recent + params.learnerRecentRate * (credit - learner.recent),
      // A step along the gradient of z in the offset, 2r − 1 before the attempt: a surprise in the
      // direction the learner's latest answers pointed says they count for more with this learner.
      recentWeightOffset:
        learner.recentWeightOffset + params.recentWeightK * surprise * (skill ? 2 * skill.recent - 1 : 0),
    },
    skill: {
      theta: current.theta + (params.skillK / (1 + params.skillKDecay * current.attempts)) * surprise,
      attempts: current.attempts + 1,
      creditSum: current.creditSum + credit,
      recent: current.recent + params.recentRate * (credit - current.recent),
      lastAttemptAt: Math.max(atMs, current.lastAttemptAt ?? atMs),
    },
  };
}

/**
 * What NIGHTLY sums over one question's (or subcategory's) new attempts, from the stored
 * predictions: COUNT(*), SUM(credit), SUM(predicted_correct), SUM(predicted_correct·(1 − predicted_correct)).
 */
export interface AttemptAggregate {
  attempts: number;
  creditSum: number;
  predictedSum: number;
  predictedVarianceSum: number;
}

/**
 * A question's parameters after a night's attempts: one Newton step of the logistic likelihood in
 * the difficulty, the stored information acting as the prior (a Laplace filter). The night's
 * predictions were all made with the stored difficulty, so the step is exact to first order; more
 * data than predicted correct lowers the difficulty, and each night weighs less as information grows.
 */
export function refitQuestionParameters(
  params: LearnerModelParameters,
  current: QuestionParameters,
  night: AttemptAggregate,
): QuestionParameters {
  if (night.attempts === 0) return current;
  const s = params.calibrationSlope;
  const information = current.information + s * s * night.predictedVarianceSum;
  return {
    difficulty: current.difficulty + (s * (night.predictedSum - night.creditSum)) / information,
    attempts: current.attempts + night.attempts,
    information,
  };
}

/** Sums over a subcategory's questions with data: Σ attempts and Σ attempts · difficulty. */
export interface SubcategoryQuestions {
  attempts: number;
  weightedDifficultySum: number;
}

/**
 * A subcategory's typical difficulty: its questions' difficulties weighted by their attempts (the
 * questions learners actually meet), shrunk toward 0 by subcategoryPriorAttempts pseudo-attempts.
 * One GROUP BY over questions gives its input.
 */
export function refitSubcategoryPrior(
  params: LearnerModelParameters,
  questions: SubcategoryQuestions,
): Pick<SubcategoryPrior, 'difficulty' | 'attempts'> {
  return {
    difficulty: questions.weightedDifficultySum / (questions.attempts + params.subcategoryPriorAttempts),
    attempts: questions.attempts,
  };
}

/** A subcategory's PFA offsets and their information matrix [ss, sf, ff] (inverse covariance). */
export interface PracticeOffsets {
  successOffset: number;
  failureOffset: number;
  information: [ss: number, sf: number, ff: number];
}

/** The offsets before any data: 0, with practicePriorInformation on each. */
export const practicePrior = (params: LearnerModelParameters): PracticeOffsets => ({
  successOffset: 0,
  failureOffset: 0,
  information: [params.practicePriorInformation, 0, params.practicePriorInformation],
});

/**
 * The log-likelihood's gradient and curvature in a subcategory's two offsets over some attempts:
 * Σ s·(p − c)·x and Σ s²·p(1 − p)·x·xᵀ, x = practiceFeatures before each attempt, p its prediction,
 * c its credit, s the calibration slope (NIGHTLY's GROUP BY; the fit's replay adds them one by one).
 */
export interface PracticeAggregate {
  successGradient: number;
  failureGradient: number;
  successSuccess: number;
  successFailure: number;
  failureFailure: number;
}

export const emptyPracticeAggregate = (): PracticeAggregate => ({
  successGradient: 0,
  failureGradient: 0,
  successSuccess: 0,
  successFailure: 0,
  failureFailure: 0,
});

/** Adds one attempt (the skill state before it, its prediction and credit) to a subcategory's aggregate. */
export function addPracticeEvidence(
  aggregate: PracticeAggregate,
  params: LearnerModelParameters,
  skillBefore: SkillState | null,
  predicted: number,
  credit: number,
): void {
  const [x1, x2] = practiceFeatures(skillBefore);
  const residual = params.calibrationSlope * (predicted - credit);
  const weight = params.calibrationSlope ** 2 * predicted * (1 - predicted);
  aggregate.successGradient += residual * x1;
  aggregate.failureGradient += residual * x2;
  aggregate.successSuccess += weight * x1 * x1;
  aggregate.successFailure += weight * x1 * x2;
  aggregate.failureFailure += weight * x2 * x2;
}

/**
 * A subcategory's offsets after a night's attempts: one Newton step of the logistic likelihood in the
 * two, the stored information acting as the prior (the Laplace filter of refitQuestionParameters, in
 * two dimensions): information' = information + curvature, offsets' = offsets − information'⁻¹·gradient.
 */
export function refitPracticeOffsets(current: PracticeOffsets, night: PracticeAggregate): PracticeOffsets {
  const [ss, sf, ff] = current.information;
  const a = ss + night.successSuccess;
  const b = sf + night.successFailure;
  const d = ff + night.failureFailure;
  const determinant = a * d - b * b;
  if (!(determinant > 0)) return current;
  return {
    successOffset: current.successOffset - (d * night.successGradient - b * night.failureGradient) / determinant,
    failureOffset: current.failureOffset - (a * night.failureGradient - b * night.successGradient) / determinant,
    information: [a, b, d],
  };
}
