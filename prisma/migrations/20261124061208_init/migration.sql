-- CreateEnum
CREATE TYPE "Role" AS ENUM ('LEARNER', 'COACH', 'ADMIN');

-- CreateEnum
CREATE TYPE "DifficultyBand" AS ENUM ('EASY', 'MEDIUM', 'HARD');

-- CreateEnum
CREATE TYPE "AttemptContext" AS ENUM ('SESSION', 'PRACTICE', 'DAILY');

-- CreateEnum
CREATE TYPE "PlanUnitStatus" AS ENUM ('PENDING', 'DONE', 'SKIPPED');

-- CreateEnum
CREATE TYPE "PlanTrigger" AS ENUM ('SESSION_END', 'NIGHTLY', 'MANUAL');

-- CreateEnum
CREATE TYPE "JobName" AS ENUM ('NIGHTLY', 'MASTERY_DECAY', 'PATTERNS');

-- CreateEnum
CREATE TYPE "JobStatus" AS ENUM ('RUNNING', 'SUCCEEDED', 'FAILED');

-- CreateTable
CREATE TABLE "users" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "role" "Role" NOT NULL DEFAULT 'LEARNER',
    "timezone" TEXT NOT NULL DEFAULT 'UTC',
    "daily_question_budget" INTEGER NOT NULL DEFAULT 30,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "questions" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "external_id" TEXT NOT NULL,
    "category" TEXT NOT NULL,
    "subcategory" TEXT NOT NULL,
    "difficulty_band" "DifficultyBand" NOT NULL,
    "answer" TEXT NOT NULL,
    "answer_key" TEXT NOT NULL,
    "options" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "attempts_count" INTEGER NOT NULL DEFAULT 0,
    "correct_count" INTEGER NOT NULL DEFAULT 0,
    "difficulty" DOUBLE PRECISION NOT NULL DEFAULT 0.5,
    "discrimination" DOUBLE PRECISION,
    "learning_impact" DOUBLE PRECISION,
    "importance_index" DOUBLE PRECISION NOT NULL DEFAULT 0.5,
    "stats_updated_at" TIMESTAMPTZ(3),
    "mastery_n" INTEGER NOT NULL DEFAULT 0,
    "mastery_sum" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "mastery_sq_sum" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "mastery_correct_n" INTEGER NOT NULL DEFAULT 0,
    "mastery_correct_sum" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "follow_up_n" INTEGER NOT NULL DEFAULT 0,
    "follow_up_correct" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "questions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sessions" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ended_at" TIMESTAMPTZ(3),
    "duration_sec" INTEGER,
    "units" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "notes" TEXT,
    "client_session_id" TEXT,

    CONSTRAINT "sessions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "session_summaries" (
    "session_id" UUID NOT NULL,
    "questions_attempted" INTEGER NOT NULL,
    "questions_correct" INTEGER NOT NULL,
    "accuracy" DOUBLE PRECISION,
    "average_time_per_question" DOUBLE PRECISION,
    "topics_covered" TEXT[],
    "easy_count" INTEGER NOT NULL,
    "medium_count" INTEGER NOT NULL,
    "hard_count" INTEGER NOT NULL,
    "computed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "session_summaries_pkey" PRIMARY KEY ("session_id")
);

-- CreateTable
CREATE TABLE "session_analytics" (
    "session_id" UUID NOT NULL,
    "learning_velocity" DOUBLE PRECISION,
    "concept_switches" INTEGER NOT NULL,
    "attention_span_minutes" DOUBLE PRECISION,
    "optimal_difficulty_range" "DifficultyBand"[],
    "computed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "session_analytics_pkey" PRIMARY KEY ("session_id")
);

-- CreateTable
CREATE TABLE "attempts" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "question_id" UUID NOT NULL,
    "session_id" UUID,
    "attempt_no" INTEGER NOT NULL,
    "context" "AttemptContext" NOT NULL,
    "options" JSONB,
    "user_answer" TEXT NOT NULL,
    "correct" BOOLEAN NOT NULL,
    "time_sec" DOUBLE PRECISION NOT NULL,
    "hint_used" BOOLEAN NOT NULL DEFAULT false,
    "answered_at" TIMESTAMPTZ(3),
    "recorded_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "client_attempt_id" TEXT NOT NULL,
    "mastery_at_attempt" DOUBLE PRECISION,

    CONSTRAINT "attempts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "masteries" (
    "user_id" UUID NOT NULL,
    "subcategory" TEXT NOT NULL,
    "score" DOUBLE PRECISION NOT NULL,
    "attempts_count" INTEGER NOT NULL DEFAULT 0,
    "last_practiced_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "decayed_at" TIMESTAMPTZ(3),

    CONSTRAINT "masteries_pkey" PRIMARY KEY ("user_id","subcategory")
);

-- CreateTable
CREATE TABLE "mastery_history" (
    "user_id" UUID NOT NULL,
    "subcategory" TEXT NOT NULL,
    "date" DATE NOT NULL,
    "score" DOUBLE PRECISION NOT NULL,

    CONSTRAINT "mastery_history_pkey" PRIMARY KEY ("user_id","subcategory","date")
);

-- CreateTable
CREATE TABLE "plan_units" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "plan_date" DATE NOT NULL,
    "subcategory" TEXT NOT NULL,
    "target_questions" INTEGER NOT NULL,
    "priority" INTEGER NOT NULL,
    "status" "PlanUnitStatus" NOT NULL DEFAULT 'PENDING',
    "reason" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "plan_units_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "plan_adjustments" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "plan_date" DATE NOT NULL,
    "trigger" "PlanTrigger" NOT NULL,
    "session_id" UUID,
    "before" JSONB NOT NULL,
    "after" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "plan_adjustments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "learning_patterns" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "computed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "window_days" INTEGER NOT NULL,
    "optimal_session_duration_minutes" DOUBLE PRECISION,
    "best_hour_of_day" INTEGER,
    "difficulty_progression" JSONB NOT NULL,
    "concept_retention" JSONB NOT NULL,

    CONSTRAINT "learning_patterns_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "usage_stats" (
    "date" DATE NOT NULL,
    "active_users" INTEGER NOT NULL,
    "sessions" INTEGER NOT NULL,
    "attempts" INTEGER NOT NULL,
    "accuracy" DOUBLE PRECISION,
    "average_session_minutes" DOUBLE PRECISION,
    "by_context" JSONB NOT NULL,
    "computed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "usage_stats_pkey" PRIMARY KEY ("date")
);

-- CreateTable
CREATE TABLE "job_runs" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "job" "JobName" NOT NULL,
    "slot" TIMESTAMPTZ(3) NOT NULL,
    "status" "JobStatus" NOT NULL DEFAULT 'RUNNING',
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),
    "lease_until" TIMESTAMPTZ(3),
    "owner" TEXT,
    "run_date" DATE,
    "watermark" TIMESTAMPTZ(6),
    "stats" JSONB,
    "error" TEXT,

    CONSTRAINT "job_runs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");

-- CreateIndex
CREATE UNIQUE INDEX "questions_external_id_key" ON "questions"("external_id");

-- CreateIndex
CREATE INDEX "questions_subcategory_idx" ON "questions"("subcategory");

-- CreateIndex
CREATE INDEX "sessions_user_id_started_at_idx" ON "sessions"("user_id", "started_at");

-- CreateIndex
CREATE INDEX "sessions_ended_at_idx" ON "sessions"("ended_at");

-- CreateIndex
CREATE UNIQUE INDEX "sessions_user_id_client_session_id_key" ON "sessions"("user_id", "client_session_id");

-- CreateIndex
CREATE INDEX "attempts_user_id_recorded_at_idx" ON "attempts"("user_id", "recorded_at");

-- CreateIndex
CREATE INDEX "attempts_session_id_recorded_at_idx" ON "attempts"("session_id", "recorded_at");

-- CreateIndex
CREATE INDEX "attempts_question_id_idx" ON "attempts"("question_id");

-- CreateIndex
CREATE INDEX "attempts_recorded_at_idx" ON "attempts"("recorded_at");

-- CreateIndex
CREATE UNIQUE INDEX "attempts_user_id_client_attempt_id_key" ON "attempts"("user_id", "client_attempt_id");

-- CreateIndex
CREATE UNIQUE INDEX "attempts_user_id_question_id_attempt_no_key" ON "attempts"("user_id", "question_id", "attempt_no");

-- CreateIndex
CREATE INDEX "mastery_history_date_idx" ON "mastery_history"("date");

-- CreateIndex
CREATE INDEX "plan_units_plan_date_idx" ON "plan_units"("plan_date");

-- CreateIndex
CREATE UNIQUE INDEX "plan_units_user_id_plan_date_subcategory_key" ON "plan_units"("user_id", "plan_date", "subcategory");

-- CreateIndex
CREATE INDEX "plan_adjustments_user_id_created_at_idx" ON "plan_adjustments"("user_id", "created_at");

-- CreateIndex
CREATE INDEX "plan_adjustments_created_at_idx" ON "plan_adjustments"("created_at");

-- CreateIndex
CREATE INDEX "learning_patterns_user_id_computed_at_idx" ON "learning_patterns"("user_id", "computed_at");

-- CreateIndex
CREATE INDEX "job_runs_job_status_slot_idx" ON "job_runs"("job", "status", "slot");

-- CreateIndex
CREATE UNIQUE INDEX "job_runs_job_slot_key" ON "job_runs"("job", "slot");

-- AddForeignKey
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "session_summaries" ADD CONSTRAINT "session_summaries_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "session_analytics" ADD CONSTRAINT "session_analytics_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "attempts" ADD CONSTRAINT "attempts_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "attempts" ADD CONSTRAINT "attempts_question_id_fkey" FOREIGN KEY ("question_id") REFERENCES "questions"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "attempts" ADD CONSTRAINT "attempts_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "masteries" ADD CONSTRAINT "masteries_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "mastery_history" ADD CONSTRAINT "mastery_history_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "plan_units" ADD CONSTRAINT "plan_units_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "plan_adjustments" ADD CONSTRAINT "plan_adjustments_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "plan_adjustments" ADD CONSTRAINT "plan_adjustments_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "learning_patterns" ADD CONSTRAINT "learning_patterns_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
