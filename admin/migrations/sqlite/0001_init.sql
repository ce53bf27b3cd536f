-- Users and service accounts. Roles are a comma-separated, ascending list.
CREATE TABLE users (
    name            TEXT PRIMARY KEY NOT NULL,
    password_hash   TEXT,
    roles           TEXT NOT NULL,
    active          BOOLEAN NOT NULL,
    service_account BOOLEAN NOT NULL,
    manager         TEXT,
    void_before     INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- Every token ever minted (text never stored). `seq` orders pages; the list_* columns are the
-- token's entry in the revocation list (list_kind 0: not listed).
CREATE TABLE tokens (
    seq               INTEGER PRIMARY KEY,
    id                TEXT NOT NULL UNIQUE,
    owner             TEXT NOT NULL REFERENCES users (name),
    name              TEXT NOT NULL,
    description       TEXT NOT NULL,
    kind              TEXT NOT NULL,
    roles             TEXT NOT NULL,
    created_by        TEXT NOT NULL,
    issued_at         INTEGER NOT NULL,
    signed_expires_at INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL,
    enabled           BOOLEAN NOT NULL,
    revoked_at        INTEGER,
    revoked_by        TEXT,
    revoked_from      INTEGER,
    deleted_at        INTEGER,
    last_used_at      INTEGER,
    replaces          TEXT,
    replaced_by       TEXT,
    list_kind         INTEGER NOT NULL DEFAULT 0,
    list_from         INTEGER NOT NULL DEFAULT 0,
    list_expires      INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX tokens_live_name ON tokens (owner, name)
    WHERE revoked_at IS NULL AND deleted_at IS NULL AND kind <> 'session';
CREATE INDEX tokens_owner ON tokens (owner, seq);
CREATE INDEX tokens_listed ON tokens (list_expires) WHERE list_kind <> 0;

-- Per-subject cut-offs published in the revocation list. drop_roles: "role=before,...".
CREATE TABLE subject_rules (
    subject     TEXT PRIMARY KEY NOT NULL,
    void_before INTEGER NOT NULL,
    drop_roles  TEXT NOT NULL,
    expires_at  INTEGER NOT NULL
);

-- The list's current version (one row), every version handed out, and what changed in each.
CREATE TABLE list_state (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    sequence     INTEGER NOT NULL,
    generated_at INTEGER NOT NULL
);
INSERT INTO list_state (id, sequence, generated_at) VALUES (1, 1, 0);

CREATE TABLE list_versions (
    sequence     INTEGER PRIMARY KEY NOT NULL,
    generated_at INTEGER NOT NULL
);
INSERT INTO list_versions (sequence, generated_at) VALUES (1, 0);

CREATE TABLE list_changes (
    id         INTEGER PRIMARY KEY,
    sequence   INTEGER NOT NULL,
    token_id   TEXT,
    subject    TEXT,
    expires_at INTEGER NOT NULL
);
CREATE INDEX list_changes_sequence ON list_changes (sequence);

CREATE TABLE audit (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    actor   TEXT,
    action  TEXT NOT NULL,
    target  TEXT,
    subject TEXT,
    outcome TEXT NOT NULL,
    detail  TEXT
);
CREATE INDEX audit_actor ON audit (actor, id);
CREATE INDEX audit_subject ON audit (subject, id);
