-- Switches an admin changes at run time; a missing row follows the server's configuration.
CREATE TABLE switches (
    name TEXT PRIMARY KEY,
    enabled BOOLEAN NOT NULL,
    changed_at BIGINT NOT NULL,
    changed_by TEXT NOT NULL
);
