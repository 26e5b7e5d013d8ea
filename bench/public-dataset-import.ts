// Public answers (bench/public-dataset.ts) into a Learnloop database, set-based: one learner a
// user, one item a question (MEDIUM, the subcategory its skill), one answer an attempt (SESSION
// context, answeredAt = recordedAt = its laid-out instant). `npm run evaluate` then reads them as
// it reads any imported log.
import pg from 'pg';
import type { PublicAnswer } from './public-dataset.ts';

const chunk = 20_000;

export async function importPublicAnswers(url: string, name: string, answers: readonly PublicAnswer[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const learners = [...new Set(answers.map((a) => a.learner))];
    await client.query(
      `INSERT INTO users (name, email) SELECT l, l || '@public.example' FROM unnest($1::text[]) AS l`,
      [learners],
    );
    const subcategoryOf = new Map(answers.map((a) => [a.question, a.subcategory]));
    await client.query(
      `INSERT INTO questions (external_id, category, subcategory, difficulty_band, answer, answer_key)
       SELECT q, $3, s, 'MEDIUM', 'a', 'a' FROM unnest($1::text[], $2::text[]) AS t(q, s)`,
      [[...subcategoryOf.keys()], [...subcategoryOf.values()], name],
    );
    const attemptNo = new Map<string, number>();
    for (let start = 0; start < answers.length; start += chunk) {
      const part = answers.slice(start, start + chunk);
      const numbers = part.map((a) => {
        const key = `${a.learner}|${a.question}`;
        const n = (attemptNo.get(key) ?? 0) + 1;
        attemptNo.set(key, n);
        return n;
      });
      await client.query(
        `INSERT INTO attempts (user_id, question_id, attempt_no, context, user_answer, correct, time_sec,
                               answered_at, recorded_at, client_attempt_id)
         SELECT u.id, q.id, t.n, 'SESSION', CASE WHEN t.correct THEN 'a' ELSE 'b' END, t.correct, 30,
                to_timestamp(t.at / 1000.0), to_timestamp(t.at / 1000.0), 'public-' || t.k
         FROM unnest($1::text[], $2::text[], $3::int[], $4::bool[], $5::float8[], $6::int[])
              AS t(learner, question, n, correct, at, k)
         JOIN users u ON u.email = t.learner || '@public.example'
         JOIN questions q ON q.external_id = t.question`,
        [
          part.map((a) => a.learner),
          part.map((a) => a.question),
          numbers,
          part.map((a) => a.correct),
          part.map((a) => a.at),
          part.map((_, k) => start + k),
        ],
      );
    }
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
}
