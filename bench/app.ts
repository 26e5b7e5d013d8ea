// The application as the benchmarks load it: in the production configuration (graphql-js and Pothos
// skip development checks). They read NODE_ENV when first imported, so it is set before the
// application modules load; a benchmark takes them from here rather than importing them itself.
process.env.NODE_ENV ??= 'production';

export const { secretKey, signToken } = await import('../src/auth.ts');
export const { openDatabase } = await import('../src/db/client.ts');
export const { loadJobsConfig } = await import('../src/jobs/config.ts');
export const { createLogger } = await import('../src/logger.ts');
export const { createEventBus, topicOf } = await import('../src/pubsub.ts');
export const { createApp, graphqlPath } = await import('../src/server.ts');
export const { recordAttempt } = await import('../src/services/attempts.ts');
export const { replanLearners } = await import('../src/services/plans.ts');
export const { endSession } = await import('../src/services/sessions.ts');
