-- Evidence files (tệp minh chứng), stored in the database so that a backup of the database is a
-- backup of the files and several nodes share them.
--
-- A file is named by the SHA-256 of its bytes (`sha256`, lowercase hex) and stored once. Its
-- bytes are `file_parts` of at most 256 KiB under a `blob` id chosen by the upload that wrote
-- them: parts are written while the body streams in, and the upload's last transaction makes
-- them a file by inserting the `files` row (if absent: a concurrent upload of the same bytes
-- that lost keeps no parts). Parts under no file (an upload refused, cut off, or killed) are
-- deleted; the sweep removes those a crash left behind.
CREATE TABLE files (
    sha256      TEXT    PRIMARY KEY,
    blob        TEXT    NOT NULL UNIQUE,
    media_type  TEXT    NOT NULL,
    size        BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE file_parts (
    blob        TEXT    NOT NULL,
    seq         BIGINT NOT NULL,
    data        BYTEA   NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (blob, seq)
);

-- The communes a file was uploaded for: people who read that commune's documents may read it
-- (so a phone can fetch it back right after its upload), and it counts against each commune's
-- quota once.
CREATE TABLE file_communes (
    sha256      TEXT    NOT NULL REFERENCES files (sha256) ON DELETE CASCADE,
    commune     TEXT    NOT NULL,
    uploaded_at BIGINT NOT NULL,
    PRIMARY KEY (sha256, commune)
);

-- Bytes of files charged to each commune (the quota).
CREATE TABLE file_usage (
    commune     TEXT    PRIMARY KEY,
    bytes       BIGINT NOT NULL
);

-- Which documents name which files (as an evidence entry's `file` or `thumbnail`), written with
-- the document's summary. A reference a newer version dropped keeps its row with `dropped_at`
-- until the sweep, so "referenced by no document for N days" is exact. No foreign key to
-- `files`: a document may name a file before (or without) its upload.
CREATE TABLE file_references (
    sha256      TEXT    NOT NULL,
    document_id TEXT    NOT NULL,
    dropped_at  BIGINT,
    PRIMARY KEY (sha256, document_id)
);
CREATE INDEX file_references_document ON file_references (document_id);
