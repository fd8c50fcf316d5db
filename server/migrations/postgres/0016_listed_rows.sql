-- Each summary row's whole listing object (`listed`): its stored `listing` fields, its
-- commune's name and its last change, as the listings (`GET /api/documents`, the overview)
-- answer it; and the name the overview orders it by (`listed_name`: its commune's name, else
-- its commune's code). Kept by the database itself, so no writer can forget them: a row's
-- trigger builds them whenever its fields, commune or last change are written, and a unit's
-- trigger rewrites the rows of a commune added, renamed or removed. The overview of 10,000
-- communes then reads stored text, without joining the units.
ALTER TABLE document_summaries ADD COLUMN listed TEXT NOT NULL DEFAULT '';
ALTER TABLE document_summaries ADD COLUMN listed_name TEXT NOT NULL DEFAULT '';

CREATE FUNCTION document_summaries_listed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    unit_name TEXT := (SELECT u.name FROM units u WHERE u.code = NEW.commune);
BEGIN
    NEW.listed_name := COALESCE(unit_name, NEW.commune, '');
    NEW.listed := '{' || NEW.listing
        || ',"commune_name":' || COALESCE(to_json(unit_name)::text, 'null')
        || ',"last_change_at":' || COALESCE(NEW.last_change_at::text, 'null')
        || ',"last_change_by":' || COALESCE(to_json(NEW.last_change_by)::text, 'null') || '}';
    RETURN NEW;
END
$$;

-- Only the kinds the listings show: a document of another kind pays nothing for them.
CREATE TRIGGER document_summaries_listed
BEFORE INSERT OR UPDATE OF listing, commune, last_change_at, last_change_by ON document_summaries
FOR EACH ROW WHEN (NEW.kind IN ('assessment', 'roster'))
EXECUTE FUNCTION document_summaries_listed();

-- A commune's name as the rows name it: rewriting `commune` fires the rows' trigger.
CREATE FUNCTION units_listed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE document_summaries SET commune = commune WHERE commune = OLD.code;
    ELSIF TG_OP = 'INSERT' OR OLD.name IS DISTINCT FROM NEW.name THEN
        UPDATE document_summaries SET commune = commune WHERE commune = NEW.code;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER units_listed AFTER INSERT OR UPDATE OF name OR DELETE ON units
FOR EACH ROW EXECUTE FUNCTION units_listed();

-- The overview's counts by status, verdict and conflicts read this index alone, not 10,000
-- rows of the table.
DROP INDEX document_summaries_round;
CREATE INDEX document_summaries_round
    ON document_summaries (round, kind, status, verdict, open_conflicts, commune);

UPDATE document_summaries SET listing = listing;
