CREATE TABLE outbox_rebuilt (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient       TEXT      NOT NULL,
    subject         TEXT      NOT NULL,
    body            TEXT      NOT NULL,
    status          TEXT      NOT NULL CHECK (status IN ('pending', 'sent')),
    attempts        INTEGER   NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until    TIMESTAMP,
    last_error      TEXT,
    created_at      TIMESTAMP NOT NULL,
    sent_at         TIMESTAMP,
    channel         TEXT      NOT NULL DEFAULT 'email' CHECK (channel IN ('email', 'webhook', 'sms', 'zns')),
    kind            TEXT      NOT NULL DEFAULT '',
    segments        INTEGER
);
INSERT INTO outbox_rebuilt SELECT id, recipient, subject, body,
    CASE status WHEN 'failed' THEN 'sent' ELSE status END, attempts, next_attempt_at, locked_until,
    last_error, created_at, sent_at, channel, kind, segments FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_rebuilt RENAME TO outbox;
CREATE INDEX outbox_pending_idx ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_recipient_idx ON outbox (recipient, created_at);
DROP TABLE job_holds;
DROP TABLE operator_audit;
ALTER TABLE listings DROP COLUMN paused_by_suspension;
ALTER TABLE partners DROP COLUMN suspended_at;
ALTER TABLE teams DROP COLUMN suspended_at;
ALTER TABLE users DROP COLUMN suspended_at;
