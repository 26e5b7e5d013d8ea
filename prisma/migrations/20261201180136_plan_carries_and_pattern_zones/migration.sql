-- AlterTable
ALTER TABLE "learning_patterns" ADD COLUMN     "time_zone" TEXT;

-- CreateTable
CREATE TABLE "plan_carries" (
    "user_id" UUID NOT NULL,
    "from_date" DATE NOT NULL,
    "through_date" DATE,
    "units" JSON NOT NULL,

    CONSTRAINT "plan_carries_pkey" PRIMARY KEY ("user_id","from_date")
);

-- AddForeignKey
ALTER TABLE "plan_carries" ADD CONSTRAINT "plan_carries_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
