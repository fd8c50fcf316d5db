-- The row's fields as the listing (`GET /api/documents`, the overview) shows them, written with
-- the summary: a JSON object's members without braces and without the three fields that change
-- on their own (the commune's name, the last change and who made it), which the listing query
-- adds. An overview of 10,000 communes then joins stored text instead of sending 10,000 rows to
-- be encoded again. Rows written before this column are filled from their own columns here.
ALTER TABLE document_summaries ADD COLUMN listing TEXT NOT NULL DEFAULT '';
UPDATE document_summaries SET listing = substr(fields, 2, length(fields) - 2)
FROM (SELECT document_id AS id, json_build_object(
        'id', document_id, 'url', 'automerge:' || document_id, 'kind', kind,
        'commune', commune, 'round', round, 'catalog', catalog, 'status', status,
        'self_total', self_total, 'review_total', review_total,
        'verdict', verdict, 'open_conflicts', open_conflicts)::text AS fields
      FROM document_summaries) AS built
WHERE built.id = document_summaries.document_id;
ALTER TABLE document_summaries ALTER COLUMN listing DROP DEFAULT;
