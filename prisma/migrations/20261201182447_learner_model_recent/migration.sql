-- AlterTable
ALTER TABLE "learner_states" ADD COLUMN     "recent" DOUBLE PRECISION NOT NULL DEFAULT 0.5;

-- AlterTable
ALTER TABLE "skill_states" ADD COLUMN     "recent" DOUBLE PRECISION NOT NULL DEFAULT 0.5;
