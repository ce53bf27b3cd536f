-- What the edge reports: per token and UTC day (days since 1970-01-01), the requests it let
-- through. tokens.last_used_at holds the latest use seen by the edge or the admin.
CREATE TABLE token_usage_daily (
    token_id TEXT NOT NULL,
    day BIGINT NOT NULL,
    requests BIGINT NOT NULL,
    PRIMARY KEY (token_id, day)
);
-- Per edge isolate, the last usage report taken and when it was sent, so that no report is
-- taken twice. A row is dropped once its report is older than the acceptance window: a replay
-- of it is refused by its age from then on.
CREATE TABLE usage_reporters (
    reporter TEXT PRIMARY KEY,
    sequence BIGINT NOT NULL,
    sent_at BIGINT NOT NULL
);
CREATE INDEX usage_reporters_sent_at ON usage_reporters (sent_at);
