-- The listings' columns of each assessment and roster, apart from the rest of its summary
-- (`document_listed`): the listed object, the name it is ordered by, and what the listings
-- filter, order and count by. A summary row is about 1.8 KB (criteria, listing fields, status
-- history, listed object), so the department's overview of 10,000 communes read 6,667 pages
-- of summaries for 0.5 KB of each; the same columns alone are 1,281 pages, and the overview's
-- statement took 8.5 ms instead of 17–18 (EXPLAIN ANALYZE on the overview bench's database).
-- Kept by the database from the summaries' own rows, in the transaction that writes them, so no
-- writer can forget it: written after each insert, each update of one of these columns (the
-- listed object changes with its fields, commune's name and last change, migration 0016), and
-- removed with the summary or when it stops being a listed kind.
-- PostgreSQL only: SQLite reads the summaries through a memory map and `group_concat` within
-- the overview's target, and there a second row written per change would cost every change.
CREATE TABLE document_listed (
    document_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    commune TEXT,
    round INTEGER,
    status TEXT,
    verdict TEXT,
    open_conflicts INTEGER NOT NULL,
    listed TEXT NOT NULL,
    listed_name TEXT NOT NULL
);
CREATE INDEX document_listed_round ON document_listed (round, kind);
CREATE INDEX document_listed_commune ON document_listed (commune, kind, round);

CREATE FUNCTION document_summaries_listed_apart() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM document_listed WHERE document_id = OLD.document_id;
        RETURN NULL;
    END IF;
    IF NEW.kind NOT IN ('assessment', 'roster') THEN
        DELETE FROM document_listed WHERE document_id = NEW.document_id;
        RETURN NULL;
    END IF;
    INSERT INTO document_listed (document_id, kind, commune, round, status, verdict,
                                 open_conflicts, listed, listed_name)
    VALUES (NEW.document_id, NEW.kind, NEW.commune, NEW.round, NEW.status, NEW.verdict,
            NEW.open_conflicts, NEW.listed, NEW.listed_name)
    ON CONFLICT (document_id) DO UPDATE SET kind = excluded.kind, commune = excluded.commune,
        round = excluded.round, status = excluded.status, verdict = excluded.verdict,
        open_conflicts = excluded.open_conflicts, listed = excluded.listed,
        listed_name = excluded.listed_name;
    RETURN NULL;
END
$$;

CREATE TRIGGER document_summaries_listed_apart_insert AFTER INSERT ON document_summaries
FOR EACH ROW WHEN (NEW.kind IN ('assessment', 'roster'))
EXECUTE FUNCTION document_summaries_listed_apart();

CREATE TRIGGER document_summaries_listed_apart_update AFTER UPDATE ON document_summaries
FOR EACH ROW WHEN ((NEW.kind IN ('assessment', 'roster') OR OLD.kind IN ('assessment', 'roster'))
    AND (OLD.listed, OLD.listed_name, OLD.kind, OLD.commune, OLD.round, OLD.status,
         OLD.verdict, OLD.open_conflicts)
        IS DISTINCT FROM
        (NEW.listed, NEW.listed_name, NEW.kind, NEW.commune, NEW.round, NEW.status,
         NEW.verdict, NEW.open_conflicts))
EXECUTE FUNCTION document_summaries_listed_apart();

CREATE TRIGGER document_summaries_listed_apart_delete AFTER DELETE ON document_summaries
FOR EACH ROW WHEN (OLD.kind IN ('assessment', 'roster'))
EXECUTE FUNCTION document_summaries_listed_apart();

INSERT INTO document_listed (document_id, kind, commune, round, status, verdict, open_conflicts,
                             listed, listed_name)
SELECT document_id, kind, commune, round, status, verdict, open_conflicts, listed, listed_name
FROM document_summaries WHERE kind IN ('assessment', 'roster');
