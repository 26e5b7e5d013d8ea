-- AlterTable
ALTER TABLE "subcategory_priors" ADD COLUMN     "failure_offset" DOUBLE PRECISION NOT NULL DEFAULT 0,
ADD COLUMN     "practice_information_ff" DOUBLE PRECISION,
ADD COLUMN     "practice_information_sf" DOUBLE PRECISION,
ADD COLUMN     "practice_information_ss" DOUBLE PRECISION,
ADD COLUMN     "success_offset" DOUBLE PRECISION NOT NULL DEFAULT 0;
