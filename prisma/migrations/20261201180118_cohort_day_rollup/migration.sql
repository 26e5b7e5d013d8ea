-- CreateTable
CREATE TABLE "daily_cohort_activity" (
    "date" DATE NOT NULL,
    "attempts" INTEGER NOT NULL,
    "correct" INTEGER NOT NULL,
    "learners" INTEGER NOT NULL,

    CONSTRAINT "daily_cohort_activity_pkey" PRIMARY KEY ("date")
);

-- The totals of the days already rolled up (a database that ran NIGHTLY before this table).
INSERT INTO "daily_cohort_activity" ("date", "attempts", "correct", "learners")
SELECT "date", sum("attempts")::int, sum("correct")::int, count(DISTINCT "user_id")::int
FROM "daily_activity" GROUP BY "date";
