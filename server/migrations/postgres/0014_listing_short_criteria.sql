-- The listing (`GET /api/documents`, the overview) now writes each criterion's points as a short
-- array (`["TC1",14,7,6.5]`, `shared::rest::criteria_points`) instead of an object: the overview
-- of 10,000 communes is less than half the bytes to decode. Readers accept both forms; assessment
-- rows are rewritten at the next start (the backfill reads rows whose `status_history` is NULL),
-- as 0011 did.
UPDATE document_summaries SET status_history = NULL WHERE kind = 'assessment';
