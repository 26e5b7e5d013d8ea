-- CreateTable
CREATE TABLE "learner_last_recorded" (
    "user_id" UUID NOT NULL,
    "last_recorded_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "learner_last_recorded_pkey" PRIMARY KEY ("user_id")
);

-- AddForeignKey
ALTER TABLE "learner_last_recorded" ADD CONSTRAINT "learner_last_recorded_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Filled up to the latest NIGHTLY's watermark, as a run leaves it: the next run adds its window's attempts
-- (no NIGHTLY yet: the first run fills it from every attempt).
INSERT INTO "learner_last_recorded" ("user_id", "last_recorded_at")
SELECT a.user_id, max(a.recorded_at) FROM attempts a
WHERE a.recorded_at <= (SELECT max(watermark) FROM job_runs WHERE job = 'NIGHTLY' AND status = 'SUCCEEDED')
GROUP BY a.user_id;
