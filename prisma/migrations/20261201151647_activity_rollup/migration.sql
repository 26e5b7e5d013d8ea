-- CreateTable
CREATE TABLE "daily_activity" (
    "user_id" UUID NOT NULL,
    "date" DATE NOT NULL,
    "subcategory" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL,
    "correct" INTEGER NOT NULL,

    CONSTRAINT "daily_activity_pkey" PRIMARY KEY ("date","user_id","subcategory")
);

-- CreateTable
CREATE TABLE "activity_rollup_mark" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "up_to" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "activity_rollup_mark_pkey" PRIMARY KEY ("id")
);
