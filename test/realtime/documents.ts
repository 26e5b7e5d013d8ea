// The operations of the real-time tests (typed by codegen from schema.graphql).
import { graphql } from '../gql/index.ts';

export const RealtimePlanAdjusted = graphql(`
  subscription RealtimePlanAdjusted($userId: ID!) {
    planAdjusted(userId: $userId) {
      id planDate trigger createdAt
      session { id }
      before { subcategory targetQuestions priority reason status }
      after { subcategory targetQuestions priority reason status }
    }
  }
`);

export const RealtimeSessionEnded = graphql(`
  subscription RealtimeSessionEnded($userId: ID) {
    sessionEnded(userId: $userId) {
      id endedAt durationSec user { id }
      summary {
        questionsAttempted questionsCorrect accuracy averageTimePerQuestion topicsCovered
        difficultyDistribution { easy medium hard }
      }
      analytics { learningVelocity conceptSwitches attentionSpanMinutes optimalDifficultyRange }
    }
  }
`);

export const RealtimePlan = graphql(`
  query RealtimePlan($id: ID!, $date: Date!) {
    user(id: $id) {
      plan(date: $date) { date units { id subcategory targetQuestions priority status reason } }
      planAdjustments(first: 10) { edges { node { id trigger planDate session { id } } } }
    }
  }
`);

export const RealtimeSetPlanUnitStatus = graphql(`
  mutation RealtimeSetPlanUnitStatus($id: ID!, $status: PlanUnitStatus!) {
    setPlanUnitStatus(id: $id, status: $status) { id subcategory status targetQuestions }
  }
`);

export const RealtimeAdjustments = graphql(`
  query RealtimeAdjustments($id: ID!) {
    user(id: $id) { planAdjustments(first: 10) { edges { node { id trigger planDate session { id } } } } }
  }
`);
