-- AlterTable
ALTER TABLE "mastery_history" ADD COLUMN     "imported" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "import_keys" (
    "source" TEXT NOT NULL,
    "entity" TEXT NOT NULL,
    "source_id" TEXT NOT NULL,
    "target_id" UUID NOT NULL,

    CONSTRAINT "import_keys_pkey" PRIMARY KEY ("source","entity","source_id")
);
