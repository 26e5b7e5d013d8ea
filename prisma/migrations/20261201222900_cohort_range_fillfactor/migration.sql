-- The preset ranges' rows are updated in place every night (NIGHTLY's shift of the ranges): room left
-- on each page lets an update stay on it (a HOT update, no new index entry). Taken by the pages the
-- next full build writes.
ALTER TABLE "cohort_range_subcategory_learners" SET (fillfactor = 75);
ALTER TABLE "cohort_range_learners" SET (fillfactor = 75);
