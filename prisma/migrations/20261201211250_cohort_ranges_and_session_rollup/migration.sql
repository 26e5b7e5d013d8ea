-- AlterTable
ALTER TABLE "daily_cohort_activity" ADD COLUMN     "sessions" INTEGER NOT NULL DEFAULT 0;

-- AlterTable (the sessions already there count as recorded now: after any rollup mark, so the next
-- NIGHTLY adds them to daily_cohort_activity and the cohort overview reads them as recent until then)
ALTER TABLE "sessions" ADD COLUMN     "recorded_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- CreateTable
CREATE TABLE "cohort_ranges" (
    "id" SERIAL NOT NULL,
    "span" INTEGER NOT NULL,
    "from" DATE NOT NULL,
    "to" DATE NOT NULL,
    "up_to" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "cohort_ranges_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "cohort_range_subcategory_learners" (
    "range_id" INTEGER NOT NULL,
    "subcategory" TEXT NOT NULL,
    "user_id" UUID NOT NULL,
    "attempts" INTEGER NOT NULL,
    "correct" INTEGER NOT NULL,

    CONSTRAINT "cohort_range_subcategory_learners_pkey" PRIMARY KEY ("range_id","subcategory","user_id")
);

-- CreateTable
CREATE TABLE "cohort_range_learners" (
    "range_id" INTEGER NOT NULL,
    "user_id" UUID NOT NULL,
    "first_attempts" INTEGER NOT NULL,
    "first_correct" INTEGER NOT NULL,
    "second_attempts" INTEGER NOT NULL,
    "second_correct" INTEGER NOT NULL,

    CONSTRAINT "cohort_range_learners_pkey" PRIMARY KEY ("range_id","user_id")
);

-- CreateIndex
CREATE INDEX "sessions_recorded_at_idx" ON "sessions"("recorded_at");
