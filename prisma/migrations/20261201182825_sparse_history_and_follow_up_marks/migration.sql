-- AlterTable
ALTER TABLE "masteries" ADD COLUMN     "history_base_at" TIMESTAMPTZ(3),
ADD COLUMN     "history_date" DATE,
ADD COLUMN     "history_hold_to" TIMESTAMPTZ(6),
ADD COLUMN     "history_score" DOUBLE PRECISION;

-- AlterTable
ALTER TABLE "mastery_history" ADD COLUMN     "base_at" TIMESTAMPTZ(3),
ADD COLUMN     "base_score" DOUBLE PRECISION,
ADD COLUMN     "hold_to" TIMESTAMPTZ(6),
ADD COLUMN     "last_practiced_at" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "mastery_history_nights" (
    "date" DATE NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "decay_at" TIMESTAMPTZ(3),

    CONSTRAINT "mastery_history_nights_pkey" PRIMARY KEY ("date")
);

-- CreateTable
CREATE TABLE "follow_up_marks" (
    "user_id" UUID NOT NULL,
    "subcategory" TEXT NOT NULL,
    "question_id" UUID NOT NULL,
    "recorded_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "follow_up_marks_pkey" PRIMARY KEY ("user_id","subcategory")
);

-- AddForeignKey
ALTER TABLE "follow_up_marks" ADD CONSTRAINT "follow_up_marks_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Each learner's latest attempt per subcategory that question statistics have seen: those recorded
-- up to the last NIGHTLY's watermark (the next run's window starts there).
INSERT INTO "follow_up_marks" ("user_id", "subcategory", "question_id", "recorded_at")
SELECT DISTINCT ON (a.user_id, q.subcategory) a.user_id, q.subcategory, a.question_id, a.recorded_at
FROM "attempts" a JOIN "questions" q ON q.id = a.question_id
WHERE a.recorded_at <= (SELECT max(watermark) FROM "job_runs" WHERE job = 'NIGHTLY' AND status = 'SUCCEEDED')
ORDER BY a.user_id, q.subcategory, a.recorded_at DESC, a.id DESC;
