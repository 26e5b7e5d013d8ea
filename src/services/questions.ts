import type { Database } from '../db/client.ts';
import { answerKey } from '../domain/grading.ts';
import type { DifficultyBand, Prisma } from '../generated/prisma/client.ts';

export interface QuestionImport {
  externalId: string;
  category: string;
  subcategory: string;
  difficultyBand: DifficultyBand;
  answer: string;
  options?: unknown;
}

/** Inserts or updates questions keyed on externalId in one statement; statistics are left as they are. */
export async function upsertQuestions<Q extends Omit<Prisma.QuestionFindManyArgs, 'where'>>(
  db: Database,
  query: Q,
  questions: QuestionImport[],
) {
  if (questions.length === 0) return [];
  await db.prisma.$executeRaw`
    INSERT INTO questions (external_id, category, subcategory, difficulty_band, answer, answer_key, options, updated_at)
    SELECT t.external_id, t.category, t.subcategory, t.difficulty_band::"DifficultyBand", t.answer, t.answer_key,
           t.options::jsonb, now()
    FROM unnest(${questions.map((q) => q.externalId)}::text[], ${questions.map((q) => q.category)}::text[],
                ${questions.map((q) => q.subcategory)}::text[], ${questions.map((q) => q.difficultyBand)}::text[],
                ${questions.map((q) => q.answer)}::text[], ${questions.map((q) => answerKey(q.answer))}::text[],
                ${questions.map((q) => (q.options == null ? null : JSON.stringify(q.options)))}::text[])
      AS t(external_id, category, subcategory, difficulty_band, answer, answer_key, options)
    ON CONFLICT (external_id) DO UPDATE SET
      category = EXCLUDED.category, subcategory = EXCLUDED.subcategory, difficulty_band = EXCLUDED.difficulty_band,
      answer = EXCLUDED.answer, answer_key = EXCLUDED.answer_key, options = EXCLUDED.options, updated_at = now()`;
  const rows = await db.prisma.question.findMany({
    ...query,
    where: { externalId: { in: questions.map((q) => q.externalId) } },
  });
  const byExternalId = new Map(rows.map((row) => [(row as { externalId: string }).externalId, row]));
  return questions.map((q) => byExternalId.get(q.externalId)!);
}
