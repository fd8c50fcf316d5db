-- Criteria catalogs imported by an administrator (the shipped ones live in the binary).
CREATE TABLE catalogs (
    code        TEXT    NOT NULL,
    revision    INTEGER NOT NULL,
    source      TEXT    NOT NULL,   -- the catalog in the documented JSON format, as validated
    imported_at BIGINT  NOT NULL,   -- unix milliseconds
    PRIMARY KEY (code, revision)
);
