-- AlterTable
ALTER TABLE "attempts" ADD COLUMN     "mastery_after" DOUBLE PRECISION,
ADD COLUMN     "predicted_correct" DOUBLE PRECISION;

-- AlterTable
ALTER TABLE "questions" ADD COLUMN     "model_attempts" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "model_difficulty" DOUBLE PRECISION,
ADD COLUMN     "model_information" DOUBLE PRECISION;

-- CreateTable
CREATE TABLE "learner_states" (
    "user_id" UUID NOT NULL,
    "theta" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "version" INTEGER NOT NULL DEFAULT 0,
    "state_at" TIMESTAMPTZ(3),
    "replay_from" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "learner_states_pkey" PRIMARY KEY ("user_id")
);

-- CreateTable
CREATE TABLE "skill_states" (
    "user_id" UUID NOT NULL,
    "subcategory" TEXT NOT NULL,
    "theta" DOUBLE PRECISION NOT NULL,
    "attempts" INTEGER NOT NULL,
    "credit_sum" DOUBLE PRECISION NOT NULL,
    "last_attempt_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "skill_states_pkey" PRIMARY KEY ("user_id","subcategory")
);

-- CreateTable
CREATE TABLE "subcategory_priors" (
    "subcategory" TEXT NOT NULL,
    "difficulty" DOUBLE PRECISION NOT NULL,
    "attempts" INTEGER NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "subcategory_priors_pkey" PRIMARY KEY ("subcategory")
);

-- CreateIndex
CREATE INDEX "learner_states_replay_from_idx" ON "learner_states"("replay_from");

-- AddForeignKey
ALTER TABLE "learner_states" ADD CONSTRAINT "learner_states_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "skill_states" ADD CONSTRAINT "skill_states_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
