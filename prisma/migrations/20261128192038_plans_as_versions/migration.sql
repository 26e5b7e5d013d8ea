-- A plan becomes the `after` of its latest adjustment (one row per change instead of one per unit
-- and a row per change). Existing adjustments are numbered per (user, plan date) in the order they
-- were made; a plan whose units no adjustment holds (its adjustments past retention) gets one more
-- version holding them, so no plan is lost.

-- DropIndex
DROP INDEX "plan_adjustments_created_at_idx";

-- DropIndex
DROP INDEX "plan_adjustments_user_id_created_at_idx";

-- AlterTable
ALTER TABLE "plan_adjustments" ADD COLUMN     "version" INTEGER,
ALTER COLUMN "before" SET DATA TYPE JSON,
ALTER COLUMN "after" SET DATA TYPE JSON;

UPDATE "plan_adjustments" p SET "version" = n.version
FROM (SELECT id, row_number() OVER (PARTITION BY user_id, plan_date ORDER BY created_at, id)::int AS version
      FROM "plan_adjustments") n
WHERE p.id = n.id;

INSERT INTO "plan_adjustments" (user_id, plan_date, version, trigger, before, after)
SELECT u.user_id, u.plan_date, COALESCE(latest.version, 0) + 1, 'NIGHTLY', COALESCE(latest.after, '[]'::json), u.units
FROM (SELECT user_id, plan_date,
             json_agg(json_build_object('subcategory', subcategory, 'targetQuestions', target_questions, 'priority', priority,
                                        'reason', reason, 'status', status) ORDER BY priority, subcategory) AS units
      FROM "plan_units" GROUP BY user_id, plan_date) u
LEFT JOIN LATERAL (SELECT version, after FROM "plan_adjustments" a
                   WHERE a.user_id = u.user_id AND a.plan_date = u.plan_date
                   ORDER BY version DESC LIMIT 1) latest ON true
WHERE latest.after IS NULL OR latest.after::jsonb <> u.units::jsonb;

ALTER TABLE "plan_adjustments" ALTER COLUMN "version" SET NOT NULL;

-- DropForeignKey
ALTER TABLE "plan_units" DROP CONSTRAINT "plan_units_user_id_fkey";

-- DropTable
DROP TABLE "plan_units";

-- CreateIndex
CREATE INDEX "plan_adjustments_plan_date_idx" ON "plan_adjustments"("plan_date");

-- CreateIndex
CREATE UNIQUE INDEX "plan_adjustments_user_id_plan_date_version_key" ON "plan_adjustments"("user_id", "plan_date", "version");
