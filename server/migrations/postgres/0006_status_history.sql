-- Every workflow status change of an assessment with the date its author's device gave it, so a
-- report of a past period (the 6-monthly report) counts the status as it stood at the period's
-- end. JSON array of {at, status}, in the order the workflow folds them; NULL on rows written
-- before this column, which the start-up backfill recomputes from the document.
ALTER TABLE document_summaries ADD COLUMN status_history TEXT;
