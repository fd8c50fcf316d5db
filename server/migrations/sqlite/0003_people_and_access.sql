-- Organisation units, people, sessions, and who sent each change.

-- The administrative hierarchy and the reviewing bodies (đơn vị).
CREATE TABLE units (
    code        TEXT PRIMARY KEY,     -- official code (commune: 5 digits) or a local one
    kind        TEXT NOT NULL,        -- province | district | health_department | health_centre | commune | village
    name        TEXT NOT NULL,
    parent      TEXT REFERENCES units (code),
    unit_type   TEXT                  -- communes: xa | phuong | dac_khu
);
CREATE INDEX units_parent ON units (parent);

-- Communes a reviewing body (health department or centre) covers, beyond its own subtree.
CREATE TABLE unit_coverage (
    unit        TEXT NOT NULL REFERENCES units (code),
    commune     TEXT NOT NULL REFERENCES units (code),
    PRIMARY KEY (unit, commune)
);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,      -- login name, also written into documents (`by`)
    display_name   TEXT NOT NULL,
    role           TEXT NOT NULL,
    person         TEXT,                  -- village health workers: their roster entry
    password_hash  TEXT NOT NULL,         -- argon2id PHC string
    disabled       INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL
);

-- The units a user covers (scope).
CREATE TABLE user_units (
    user_id  TEXT NOT NULL REFERENCES users (id),
    unit     TEXT NOT NULL REFERENCES units (code),
    PRIMARY KEY (user_id, unit)
);

CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,        -- SHA-256 of the token, hex; the token itself is never stored
    user_id      TEXT NOT NULL REFERENCES users (id),
    device       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Failed sign-ins, for throttling.
CREATE TABLE sign_in_failures (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id   TEXT NOT NULL,
    at        INTEGER NOT NULL
);
CREATE INDEX sign_in_failures_user ON sign_in_failures (user_id, at);

-- Each automerge actor id belongs to one user and device, from its first change on.
CREATE TABLE actors (
    actor       TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL,
    device      TEXT NOT NULL,
    first_seen  INTEGER NOT NULL
);

-- Provenance: who sent each stored change, from which device, when.
CREATE TABLE changes (
    document_id  TEXT NOT NULL REFERENCES documents (id),
    hash         TEXT NOT NULL,
    actor        TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    device       TEXT NOT NULL,
    received_at  INTEGER NOT NULL,
    PRIMARY KEY (document_id, hash)
);
