-- The row's fields as the listing (`GET /api/documents`, the overview) shows them, written with
-- the summary: a JSON object's members without braces and without the three fields that change
-- on their own (the commune's name, the last change and who made it), which the listing query
-- adds. An overview of 10,000 communes then joins stored text instead of building 10,000 JSON
-- objects. Rows written before this column are filled from their own columns here.
ALTER TABLE document_summaries ADD COLUMN listing TEXT NOT NULL DEFAULT '';
UPDATE document_summaries SET listing = (
    SELECT substr(fields, 2, length(fields) - 2) FROM (SELECT json_object(
        'id', document_id, 'url', 'automerge:' || document_id, 'kind', kind,
        'commune', commune, 'round', round, 'catalog', catalog, 'status', status,
        'self_total', CASE WHEN self_total = CAST(self_total AS INTEGER)
            THEN CAST(self_total AS INTEGER) ELSE self_total END,
        'review_total', CASE WHEN review_total = CAST(review_total AS INTEGER)
            THEN CAST(review_total AS INTEGER) ELSE review_total END,
        'verdict', verdict, 'open_conflicts', open_conflicts) AS fields));
