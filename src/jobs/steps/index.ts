// The steps of each job, in the order they run (SPEC 6). Each step is set-based SQL over the whole
// batch in its own module; all of a run's steps share one transaction with its SUCCEEDED mark.
import type { JobName } from '../../generated/prisma/client.ts';
import type { Step } from '../context.ts';
import { rollUpActivity } from './activity-rollup.ts';
import { cleanup } from './cleanup.ts';
import { closeAbandonedSessions } from './close-sessions.ts';
import { decayMastery } from './decay.ts';
import { updateLearnerModel } from './learner-model.ts';
import { storeLearningPatterns } from './learning-patterns.ts';
import { updateMastery } from './mastery.ts';
import { writeMasteryHistory } from './mastery-history.ts';
import { planTomorrow } from './plans.ts';
import { updateQuestionStatistics } from './question-stats.ts';
import { computeUsageStatistics } from './usage-stats.ts';

export const jobSteps: Record<JobName, readonly Step[]> = {
  NIGHTLY: [
    { name: 'closeAbandonedSessions', run: closeAbandonedSessions },
    { name: 'masteryEwma', run: updateMastery },
    { name: 'questionStatistics', run: updateQuestionStatistics }, // importance indices included
    // Question parameters and subcategory priors refitted, late and imported attempts replayed: before the plans.
    { name: 'learnerModel', run: updateLearnerModel },
    { name: 'masteryHistory', run: writeMasteryHistory },
    { name: 'planTomorrow', run: planTomorrow }, // ← replanLearners is wired in here (steps/plans.ts)
    { name: 'cleanup', run: cleanup },
    { name: 'usageStatistics', run: computeUsageStatistics },
    { name: 'activityRollup', run: rollUpActivity }, // the cohort overview's daily rollup
    { name: 'learningPatterns', run: storeLearningPatterns },
  ],
  MASTERY_DECAY: [{ name: 'masteryDecay', run: decayMastery }],
  PATTERNS: [{ name: 'learningPatterns', run: storeLearningPatterns }],
};
