-- CreateTable
CREATE TABLE "time_zone_names" (
    "name" TEXT NOT NULL,

    CONSTRAINT "time_zone_names_pkey" PRIMARY KEY ("name")
);

-- The zones of this server; every start refreshes them (refreshTimeZoneNames).
INSERT INTO "time_zone_names" ("name") SELECT "name" FROM pg_timezone_names ORDER BY "name" ON CONFLICT DO NOTHING;
