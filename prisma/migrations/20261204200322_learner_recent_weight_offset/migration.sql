-- AlterTable
ALTER TABLE "learner_states" ADD COLUMN     "recent_weight_offset" DOUBLE PRECISION NOT NULL DEFAULT 0;
