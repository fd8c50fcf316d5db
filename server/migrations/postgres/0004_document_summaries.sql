-- One summary row per document (tramyte_shared::summary), written in the transaction that stores
-- each of its changes, so an overview reads rows and never loads documents.
CREATE TABLE document_summaries (
    document_id       TEXT    PRIMARY KEY REFERENCES documents (id),
    kind              TEXT    NOT NULL,   -- assessment | roster | json, from the content
    commune           TEXT,               -- commune code (units.code), from the content
    round             INTEGER,            -- assessments: the year
    catalog           TEXT,
    catalog_revision  INTEGER,
    status            TEXT,               -- assessments: workflow status (draft, submitted, ...)
    self_total        DOUBLE PRECISION,   -- points (exact: steps of 0.5); NULL until scored
    review_total      DOUBLE PRECISION,
    verdict           TEXT,               -- pass | fail | incomplete
    verdict_side      TEXT,               -- self | review: whose verdict it is
    reasons           TEXT    NOT NULL,   -- JSON array of the verdict's reasons
    criteria          TEXT    NOT NULL,   -- JSON array: {id, max, required, self, review}
    open_conflicts    INTEGER NOT NULL,   -- items with concurrent score values
    problem           TEXT,               -- why part of the summary is missing
    changes           BIGINT  NOT NULL,   -- automerge change count summarized: a smaller one never overwrites
    last_change_at    BIGINT,             -- unix milliseconds, server time of the last stored change
    last_change_by    TEXT,               -- user id who sent it
    updated_at        BIGINT  NOT NULL
);
CREATE INDEX document_summaries_commune ON document_summaries (commune, kind, round);
CREATE INDEX document_summaries_round ON document_summaries (round, kind, status);
