-- AlterTable: existing versions get the sum of their units' targets.
ALTER TABLE "plan_adjustments" ADD COLUMN     "target_total" INTEGER;
UPDATE "plan_adjustments" SET "target_total" =
  (SELECT coalesce(sum((e->>'targetQuestions')::int), 0) FROM json_array_elements("after") e);
ALTER TABLE "plan_adjustments" ALTER COLUMN "target_total" SET NOT NULL;
