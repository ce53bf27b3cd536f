-- Who deactivated a user: only an admin may re-activate an account an admin deactivated.
ALTER TABLE users ADD COLUMN deactivated_by_admin BOOLEAN NOT NULL DEFAULT FALSE;
