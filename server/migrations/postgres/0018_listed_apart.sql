-- The listings' columns of each assessment and roster, apart from the rest of its summary
-- (`document_listed`): the listed object, the name it is ordered by, and what the listings
-- filter, order and count by. A summary row is about 1.8 KB (criteria, listing fields, status
-- history, listed object), so the department's overview of 10,000 communes read 6,667 pages
-- of summaries for 0.5 KB of each; the same columns alone are 1,281 pages, and the overview's
-- statement took 8.5 ms instead of 17–18 (EXPLAIN ANALYZE on the overview bench's database).
-- Kept by the database from the summaries' own rows, in the statement that writes them, so no
-- writer can forget it: written after each insert and each update that changes one of these
-- columns (the listed object changes with its fields, commune's name and last change, migration
-- 0016), and removed with the summary or when it stops being a listed kind. The cost is on the
-- write side: 10,000 summary rows updated in one statement took 360-550 ms with the copy
-- against 225-370 without.
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

-- Statement-level triggers: the summaries a group commit writes together (one many-row
-- statement) are copied by one statement too. Rows whose listed columns did not change are
-- left alone; a row whose kind is no longer listed is removed.
CREATE FUNCTION document_listed_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO document_listed (document_id, kind, commune, round, status, verdict,
                                 open_conflicts, listed, listed_name)
    SELECT n.document_id, n.kind, n.commune, n.round, n.status, n.verdict, n.open_conflicts,
           n.listed, n.listed_name
    FROM written n WHERE n.kind IN ('assessment', 'roster')
    ON CONFLICT (document_id) DO UPDATE SET kind = excluded.kind, commune = excluded.commune,
        round = excluded.round, status = excluded.status, verdict = excluded.verdict,
        open_conflicts = excluded.open_conflicts, listed = excluded.listed,
        listed_name = excluded.listed_name
    WHERE (document_listed.kind, document_listed.commune, document_listed.round,
           document_listed.status, document_listed.verdict, document_listed.open_conflicts,
           document_listed.listed, document_listed.listed_name)
        IS DISTINCT FROM
          (excluded.kind, excluded.commune, excluded.round, excluded.status, excluded.verdict,
           excluded.open_conflicts, excluded.listed, excluded.listed_name);
    DELETE FROM document_listed l USING written n
    WHERE l.document_id = n.document_id AND n.kind NOT IN ('assessment', 'roster');
    RETURN NULL;
END
$$;
CREATE FUNCTION document_listed_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM document_listed l USING removed o WHERE l.document_id = o.document_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER document_listed_insert AFTER INSERT ON document_summaries
REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION document_listed_write();
CREATE TRIGGER document_listed_update AFTER UPDATE ON document_summaries
REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION document_listed_write();
CREATE TRIGGER document_listed_delete AFTER DELETE ON document_summaries
REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION document_listed_remove();

INSERT INTO document_listed (document_id, kind, commune, round, status, verdict, open_conflicts,
                             listed, listed_name)
SELECT document_id, kind, commune, round, status, verdict, open_conflicts, listed, listed_name
FROM document_summaries WHERE kind IN ('assessment', 'roster');
