-- For a session exchanged for a personal or service token: the id of that token. The session
-- lives no longer than its parent stays usable: a change that makes the parent unusable, or
-- shortens its expiry, revokes the session in the same transaction.
ALTER TABLE tokens ADD COLUMN derived_from TEXT;
CREATE INDEX tokens_derived_from ON tokens (derived_from) WHERE derived_from IS NOT NULL;
