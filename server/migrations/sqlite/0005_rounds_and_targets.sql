-- The documents the server opened for each commune: one assessment per commune and round, one
-- roster per commune. The primary key is what makes opening a round twice, or twice at once,
-- create nothing new.
CREATE TABLE commune_documents (
    commune      TEXT    NOT NULL,
    kind         TEXT    NOT NULL,     -- assessment | roster
    round        INTEGER NOT NULL,     -- the year; 0 for the roster
    document_id  TEXT    NOT NULL UNIQUE REFERENCES documents (id),
    PRIMARY KEY (commune, kind, round)
);

-- Yearly targets of a reviewing unit (chỉ tiêu giao): which communes must reach the national
-- criteria this year and which must maintain them, with a local minimum total when stricter.
CREATE TABLE targets (
    unit             TEXT    NOT NULL REFERENCES units (code),
    year             INTEGER NOT NULL,
    commune          TEXT    NOT NULL REFERENCES units (code),
    kind             TEXT    NOT NULL,   -- reach | maintain
    local_min_score  REAL,               -- points, e.g. 95 of 100 (seed 004); NULL: the national rule
    PRIMARY KEY (unit, year, commune)
);
CREATE INDEX targets_year ON targets (year, commune);
