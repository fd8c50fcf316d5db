-- Each summary row's whole listing object (`listed`): its stored `listing` fields, its
-- commune's name and its last change, as the listings (`GET /api/documents`, the overview)
-- answer it; and the name the overview orders it by (`listed_name`: its commune's name, else
-- its commune's code). Kept by the database itself, so no writer can forget them: a row's own
-- triggers rebuild them when its fields, commune or last change are written, and a unit's
-- triggers when a commune is added, renamed or removed. The overview of 10,000 communes then
-- joins stored text instead of building 10,000 objects and joining the units on every request.
ALTER TABLE document_summaries ADD COLUMN listed TEXT NOT NULL DEFAULT '';
ALTER TABLE document_summaries ADD COLUMN listed_name TEXT NOT NULL DEFAULT '';

-- Only the kinds the listings show: a document of another kind pays nothing for them. A new
-- row is built by the update trigger below, which rewriting its `listing` fires.
CREATE TRIGGER document_summaries_listed_on_insert AFTER INSERT ON document_summaries
WHEN NEW.kind IN ('assessment', 'roster')
BEGIN
    UPDATE document_summaries SET listing = listing WHERE document_id = NEW.document_id;
END;

CREATE TRIGGER document_summaries_listed_on_update
AFTER UPDATE OF listing, commune, last_change_at, last_change_by ON document_summaries
WHEN NEW.kind IN ('assessment', 'roster')
BEGIN
    UPDATE document_summaries SET listed = '{' || listing
        || ',"commune_name":'
        || json_quote((SELECT name FROM units WHERE code = document_summaries.commune))
        || ',"last_change_at":' || COALESCE(last_change_at, 'null')
        || ',"last_change_by":' || json_quote(last_change_by) || '}',
        listed_name = COALESCE((SELECT name FROM units WHERE code = document_summaries.commune),
            commune, '')
    WHERE document_id = NEW.document_id;
END;

-- A commune's name as the rows name it: rewriting `commune` fires the rows' own trigger.
CREATE TRIGGER units_listed_on_insert AFTER INSERT ON units
BEGIN
    UPDATE document_summaries SET commune = commune WHERE commune = NEW.code;
END;

CREATE TRIGGER units_listed_on_rename AFTER UPDATE OF name ON units
WHEN OLD.name IS NOT NEW.name
BEGIN
    UPDATE document_summaries SET commune = commune WHERE commune = NEW.code;
END;

CREATE TRIGGER units_listed_on_delete AFTER DELETE ON units
BEGIN
    UPDATE document_summaries SET commune = commune WHERE commune = OLD.code;
END;

-- The overview's counts by status, verdict and conflicts read this index alone, not 10,000
-- rows of the table.
DROP INDEX document_summaries_round;
CREATE INDEX document_summaries_round
    ON document_summaries (round, kind, status, verdict, open_conflicts, commune);

UPDATE document_summaries SET listing = listing;
