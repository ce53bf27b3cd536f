-- When an account was deleted. The row stays as a tombstone: the name remains reserved (tokens
-- are signed for a name, so a new account of that name must never pass for the old one), and
-- the audit log and token records that name it keep their meaning.
ALTER TABLE users ADD COLUMN deleted_at BIGINT;
