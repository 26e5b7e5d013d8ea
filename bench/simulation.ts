// The simulated platform the benchmarks seed, in SQL (multi-row INSERT … SELECT over generate_series):
// 2,000 questions over 8 subcategories and 3 bands, the learners (activity skewed), sessions of ~5
// attempts on one subcategory each (0.25% left open: abandoned), 80% of the attempts in sessions and
// 20% practice/daily, over the `days` days before the cutoff; correctness from a logistic of learner
// ability minus question hardness; the learner's mastery on 90% of them. The statements leave temp
// tables bench_users, bench_questions and bench_sessions (idx → id) for what a bench adds after.

export const questionCount = 2000;
const subcategories = ['Algebra', 'Geometry', 'Arithmetic', 'Statistics', 'Vocabulary', 'Reading', 'Grammar', 'Logic'];

export interface SimulationOptions {
  learners: number;
  attempts: number;
  /** Every attempt and session is before this instant. */
  cutoff: Date;
  /** Over how many days before the cutoff. */
  days: number;
  /** Learners' time zones, in turn (default: all UTC). */
  timezones?: string[];
}

export function simulationStatements(options: SimulationOptions): { label: string; sql: string }[] {
  const { learners, attempts, cutoff, days } = options;
  const zones = `ARRAY[${(options.timezones ?? ['UTC']).map((z) => `'${z}'`).join(',')}]`;
  const sessionAttempts = Math.round(attempts * 0.8);
  const sessions = Math.max(1, Math.round(sessionAttempts / 5));
  const T = `'${cutoff.toISOString()}'::timestamptz`;
  const subs = `ARRAY[${subcategories.map((s) => `'${s}'`).join(',')}]`;
  return [
    {
      label: 'learners',
      sql: `
        CREATE TEMP TABLE bench_users AS
          SELECT g AS idx, gen_random_uuid() AS id, (random() + random() + random() - 1.5) * 2 AS ability
          FROM generate_series(0, ${learners - 1}) g;
        INSERT INTO users (id, name, email, role, timezone, daily_question_budget, created_at)
          SELECT id, 'Learner ' || idx, 'learner' || idx || '@bench.example', 'LEARNER',
                 (${zones})[1 + idx % cardinality(${zones})], 30, ${T} - interval '${days + 30} days'
          FROM bench_users;
        CREATE INDEX ON bench_users (idx);`,
    },
    {
      label: 'questions',
      sql: `
        CREATE TEMP TABLE bench_questions AS
          SELECT g AS idx, gen_random_uuid() AS id, g % 8 AS sub, (g / 8) % 3 AS band,
                 ((g / 8) % 3 - 1) + (random() - 0.5) AS hardness
          FROM generate_series(0, ${questionCount - 1}) g;
        -- Written before the simulated days, as the users are (not at the bench's own clock).
        INSERT INTO questions (id, external_id, category, subcategory, difficulty_band, answer, answer_key,
                               created_at, updated_at)
          SELECT id, 'BENCH-' || idx, CASE WHEN sub < 4 THEN 'Quantitative' ELSE 'Verbal' END, (${subs})[sub + 1],
                 (ARRAY['EASY', 'MEDIUM', 'HARD'])[band + 1]::"DifficultyBand", 'A', 'a',
                 ${T} - interval '${days + 30} days', ${T} - interval '${days + 30} days'
          FROM bench_questions;
        CREATE INDEX ON bench_questions (idx);`,
    },
    {
      label: 'sessions',
      sql: `
        CREATE TEMP TABLE bench_sessions AS
          SELECT g AS idx, gen_random_uuid() AS id, floor(power(random(), 1.5) * ${learners})::int AS user_idx,
                 ${T} - interval '1 hour' - random() * interval '${days} days' AS started_at,
                 floor(random() * 8)::int AS sub
          FROM generate_series(0, ${sessions - 1}) g;
        INSERT INTO sessions (id, user_id, started_at, ended_at, duration_sec, units, recorded_at)
          SELECT s.id, u.id, s.started_at,
                 CASE WHEN s.idx % 400 = 0 THEN NULL ELSE s.started_at + interval '20 minutes' END,
                 CASE WHEN s.idx % 400 = 0 THEN NULL ELSE 1200 END,
                 ARRAY[(${subs})[s.sub + 1]], s.started_at
          FROM bench_sessions s JOIN bench_users u ON u.idx = s.user_idx;
        CREATE INDEX ON bench_sessions (idx);`,
    },
    {
      label: 'attempts',
      sql: `
        INSERT INTO attempts (user_id, question_id, session_id, attempt_no, context, user_answer, correct, time_sec,
                              hint_used, answered_at, recorded_at, client_attempt_id, mastery_at_attempt,
                              difficulty_at_attempt)
        SELECT user_id, question_id, session_id,
               row_number() OVER (PARTITION BY user_id, question_id ORDER BY recorded_at, j),
               context::"AttemptContext", CASE WHEN correct THEN 'A' ELSE 'B' END, correct, time_sec, hint_used,
               recorded_at - interval '2 seconds', recorded_at, 'bench-' || j, mastery, difficulty
        FROM (
          SELECT p.j, u.id AS user_id, q.id AS question_id, p.session_id, p.context, p.recorded_at,
                 random() < 1 / (1 + exp(q.hardness - u.ability)) AS correct,
                 -- As recordAttempt stores it: the question's difficulty of the night before, about this.
                 1 / (1 + exp(-q.hardness)) AS difficulty,
                 10 + random() * 50 AS time_sec, random() < 0.1 AS hint_used,
                 CASE WHEN random() < 0.1 THEN NULL
                      ELSE greatest(0, least(1, 1 / (1 + exp(-u.ability)) + (random() - 0.5) * 0.3)) END AS mastery
          FROM (
            SELECT j,
                   CASE WHEN j < ${sessionAttempts} THEN s.user_idx
                        ELSE floor(power(random(), 1.5) * ${learners})::int END AS user_idx,
                   CASE WHEN j < ${sessionAttempts} THEN s.sub + 8 * floor(random() * ${questionCount / 8})::int
                        ELSE floor(random() * ${questionCount})::int END AS question_idx,
                   CASE WHEN j < ${sessionAttempts} THEN s.id END AS session_id,
                   CASE WHEN j < ${sessionAttempts} THEN 'SESSION' WHEN j % 2 = 0 THEN 'PRACTICE' ELSE 'DAILY' END
                     AS context,
                   CASE WHEN j < ${sessionAttempts} THEN s.started_at + random() * interval '20 minutes'
                        ELSE ${T} - interval '1 hour' - random() * interval '${days} days' END AS recorded_at
            FROM (SELECT j, floor(random() * ${sessions})::int AS session_idx
                  FROM generate_series(0, ${attempts - 1}) j) r
            LEFT JOIN bench_sessions s ON s.idx = r.session_idx AND r.j < ${sessionAttempts}
          ) p
          JOIN bench_users u ON u.idx = p.user_idx
          JOIN bench_questions q ON q.idx = p.question_idx
        ) a;`,
    },
  ];
}
