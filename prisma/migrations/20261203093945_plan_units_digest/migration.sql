-- AlterTable: each stored plan gets the md5 of its units in order, statuses aside, as unitsDigest
-- (src/services/plans.ts) computes it: the units' fields joined by '|', the units by newlines.
ALTER TABLE "plan_adjustments" ADD COLUMN     "units_digest" TEXT;
ALTER TABLE "plan_carries" ADD COLUMN     "units_digest" TEXT;
UPDATE "plan_adjustments" SET "units_digest" = (
  SELECT md5(coalesce(string_agg(concat_ws('|', e->>'subcategory', e->>'targetQuestions', e->>'priority',
                                           e->>'reason'), E'\n' ORDER BY i), ''))
  FROM json_array_elements("after") WITH ORDINALITY AS x(e, i));
UPDATE "plan_carries" SET "units_digest" = (
  SELECT md5(coalesce(string_agg(concat_ws('|', e->>'subcategory', e->>'targetQuestions', e->>'priority',
                                           e->>'reason'), E'\n' ORDER BY i), ''))
  FROM json_array_elements("units") WITH ORDINALITY AS x(e, i));
ALTER TABLE "plan_adjustments" ALTER COLUMN "units_digest" SET NOT NULL;
ALTER TABLE "plan_carries" ALTER COLUMN "units_digest" SET NOT NULL;
