-- CreateIndex
CREATE INDEX "session_summaries_computed_at_idx" ON "session_summaries"("computed_at");
