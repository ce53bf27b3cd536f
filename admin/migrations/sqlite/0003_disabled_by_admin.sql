-- Who disabled a token: only an admin may re-enable a token an admin disabled.
ALTER TABLE tokens ADD COLUMN disabled_by_admin BOOLEAN NOT NULL DEFAULT FALSE;
