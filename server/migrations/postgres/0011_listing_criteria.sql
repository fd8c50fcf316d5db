-- The listing (`GET /api/documents`, the overview) now carries each assessment's points per
-- criterion, for the reviewer's heat map and charts. Assessment rows are recomputed at the next
-- start (the backfill reads rows whose `status_history` is NULL), which writes their listing.
UPDATE document_summaries SET status_history = NULL WHERE kind = 'assessment';
