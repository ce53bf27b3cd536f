-- Bumped on every change to a user, so a write can tell whether the user it read is still current.
ALTER TABLE users ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
