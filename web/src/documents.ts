// Every operation the dashboard sends, one per screen (the learner view: two, plus its live feed).
// The benchmark (bench/dashboard.ts) times exactly these.
import { graphql } from './gql/index.ts';

export const CohortDocument = graphql(`
  query DashboardCohort($from: Date!, $to: Date!) {
    cohortOverview(from: $from, to: $to) {
      from
      to
      days { date attempts accuracy sessions activeLearners }
      subcategories { subcategory learners attempts accuracy meanMastery masteryQuantiles }
      atRisk { user { id name email } reason accuracyDrop activityDrop }
    }
  }
`);

export const LearnersDocument = graphql(`
  query DashboardLearners($search: String, $first: Int!, $after: String) {
    users(role: LEARNER, search: $search, first: $first, after: $after) {
      edges {
        node {
          id
          name
          email
          timezone
          stats { lastActiveAt sessions attempts accuracy meanMastery }
        }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

export const OperationsDocument = graphql(`
  query DashboardOperations($from: Date!, $to: Date!) {
    jobRuns(first: 10) {
      edges { node { id job status slot date startedAt finishedAt error stats } }
    }
    usageStats(from: $from, to: $to) {
      date attempts activeUsers accuracy sessions averageSessionMinutes
      byContext { context attempts activeUsers accuracy }
    }
  }
`);

// A learner's view: `LearnerFields` once for `me` (a learner) and once for `user(id)` (a coach).
graphql(`
  fragment LearnerFields on User {
    id
    name
    email
    timezone
    dailyQuestionBudget
    masteries { subcategory score estimate attemptsCount lastPracticedAt updatedAt }
    masteryHistory(from: $historyFrom) { date subcategory score }
    sessions(first: 10) {
      edges {
        node {
          id
          startedAt
          endedAt
          durationSec
          units
          summary {
            questionsAttempted
            questionsCorrect
            accuracy
            averageTimePerQuestion
            topicsCovered
            difficultyDistribution { easy medium hard }
          }
          analytics { learningVelocity conceptSwitches attentionSpanMinutes optimalDifficultyRange }
        }
      }
    }
    learningPatterns(days: 30) {
      windowDays
      bestHourOfDay
      optimalSessionDurationMinutes
      conceptRetention { subcategory firstDate lastDate ratio }
      difficultyProgression { date meanDifficulty accuracy attempts }
    }
  }
`);

export const MyLearnerDocument = graphql(`
  query DashboardMe($historyFrom: Date) {
    me { ...LearnerFields }
  }
`);

export const LearnerDocument = graphql(`
  query DashboardLearner($id: ID!, $historyFrom: Date) {
    user(id: $id) { ...LearnerFields }
  }
`);

/** The second request of the learner view: plans of the learner's today and tomorrow (their time zone). */
export const PlansDocument = graphql(`
  query DashboardPlans($id: ID!, $today: Date!, $tomorrow: Date!) {
    user(id: $id) {
      id
      today: plan(date: $today) { ...PlanFields }
      tomorrow: plan(date: $tomorrow) { ...PlanFields }
      planAdjustments(first: 5) { edges { node { ...AdjustmentFields } } }
    }
  }

  fragment PlanFields on DailyPlan {
    date
    units { subcategory targetQuestions priority reason status }
  }
`);

graphql(`
  fragment AdjustmentFields on PlanAdjustment {
    id
    planDate
    trigger
    createdAt
    session { id }
    before { subcategory targetQuestions priority reason status }
    after { subcategory targetQuestions priority reason status }
  }
`);

export const PlanAdjustedDocument = graphql(`
  subscription DashboardPlanAdjusted($userId: ID!) {
    planAdjusted(userId: $userId) { ...AdjustmentFields }
  }
`);

export const SessionEndedDocument = graphql(`
  subscription DashboardSessionEnded($userId: ID!) {
    sessionEnded(userId: $userId) { id endedAt }
  }
`);
