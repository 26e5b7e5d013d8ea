-- AlterTable
ALTER TABLE "attempts" ADD COLUMN     "difficulty_at_attempt" DOUBLE PRECISION;
