-- AlterTable
ALTER TABLE "users" ADD COLUMN     "external_id" VARCHAR(255);

-- CreateTable
CREATE TABLE "pending_replans" (
    "session_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "plan_date" DATE NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "pending_replans_pkey" PRIMARY KEY ("session_id")
);

-- CreateIndex
CREATE INDEX "pending_replans_created_at_idx" ON "pending_replans"("created_at");

-- CreateIndex
CREATE UNIQUE INDEX "users_external_id_key" ON "users"("external_id");
