-- Documents and the content-addressed chunks they are stored in (see tramyte_shared::sync::chunk).
CREATE TABLE documents (
    id          TEXT    PRIMARY KEY,   -- base58check automerge-repo document id
    kind        TEXT    NOT NULL,      -- assessment | roster | json
    created_at  BIGINT  NOT NULL,      -- unix milliseconds
    created_by  TEXT    NOT NULL       -- who or what created it
);

CREATE TABLE chunks (
    seq          BIGSERIAL PRIMARY KEY,
    document_id  TEXT    NOT NULL REFERENCES documents (id),
    key          TEXT    NOT NULL,     -- SHA-256 of data, hex
    kind         TEXT    NOT NULL,     -- snapshot | incremental
    data         BYTEA   NOT NULL,
    created_at   BIGINT  NOT NULL,
    UNIQUE (document_id, key)
);
