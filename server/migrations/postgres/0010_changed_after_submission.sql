-- What the station changed, concurrently with its submission, that no reviewer has seen (JSON,
-- NULL when nothing). Assessment rows are recomputed at the next start (the backfill reads rows
-- whose `status_history` is NULL): approved dossiers are now summarized at the heads that were
-- approved, and this column is filled.
ALTER TABLE document_summaries ADD COLUMN changed_after_submission TEXT;
UPDATE document_summaries SET status_history = NULL WHERE kind = 'assessment';
