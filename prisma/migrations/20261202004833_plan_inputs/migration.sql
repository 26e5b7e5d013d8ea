-- AlterTable: existing carries get the sum of their units' targets.
ALTER TABLE "plan_carries" ADD COLUMN     "target_total" INTEGER;
UPDATE "plan_carries" SET "target_total" =
  (SELECT coalesce(sum((e->>'targetQuestions')::int), 0) FROM json_array_elements("units") e);
ALTER TABLE "plan_carries" ALTER COLUMN "target_total" SET NOT NULL;

-- AlterTable
ALTER TABLE "skill_states" ADD COLUMN     "plan_mastery" DOUBLE PRECISION;

-- CreateTable
CREATE TABLE "plan_nights" (
    "plan_date" DATE NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "bank" JSON NOT NULL,

    CONSTRAINT "plan_nights_pkey" PRIMARY KEY ("plan_date")
);

-- Existing states: the masteryAfter of the latest attempt in the model's order (answeredAt, else
-- recordedAt). Where that attempt has none (imported), NIGHTLY's replay fills it.
UPDATE "skill_states" k SET "plan_mastery" = l.mastery_after
FROM (SELECT DISTINCT ON (a.user_id, q.subcategory) a.user_id, q.subcategory, a.mastery_after
      FROM "attempts" a JOIN "questions" q ON q.id = a.question_id
      ORDER BY a.user_id, q.subcategory, COALESCE(a.answered_at, a.recorded_at) DESC, a.recorded_at DESC, a.id DESC) l
WHERE k.user_id = l.user_id AND k.subcategory = l.subcategory;
