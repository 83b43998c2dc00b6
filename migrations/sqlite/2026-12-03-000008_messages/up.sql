-- Messages to phones: the outbox carries SMS and Zalo ZNS rows too (`recipient` is then the phone in E.164),
-- says what kind of message a row is, and records the SMS segments it cost. SQLite cannot change a CHECK in
-- place, so the outbox is rebuilt (no other table points at it).
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
INSERT INTO outbox_rebuilt (id, recipient, subject, body, status, attempts, next_attempt_at, locked_until, last_error,
        created_at, sent_at, channel)
    SELECT id, recipient, subject, body, status, attempts, next_attempt_at, locked_until, last_error, created_at,
        sent_at, channel
    FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_rebuilt RENAME TO outbox;
CREATE INDEX outbox_pending_idx ON outbox (next_attempt_at) WHERE status = 'pending';
-- The per-phone cap counts a phone's recent messages.
CREATE INDEX outbox_recipient_idx ON outbox (recipient, created_at);

-- Replies received from the SMS gateway, by the gateway's id: each is handled once.
CREATE TABLE sms_inbound (
    gateway_id  TEXT      PRIMARY KEY,
    sender      TEXT      NOT NULL,
    outcome     TEXT      NOT NULL,
    received_at TIMESTAMP NOT NULL
);

-- The in-app list of what was said to a person with an account (`GET /me/notifications`).
CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    BIGINT    NOT NULL REFERENCES users (id),
    kind       TEXT      NOT NULL,
    text       TEXT      NOT NULL,
    created_at TIMESTAMP NOT NULL,
    read_at    TIMESTAMP
);
CREATE INDEX notifications_user_idx ON notifications (user_id, id);

-- When the farmer was reminded of a shipment still waiting for their answer.
ALTER TABLE shipments ADD COLUMN reminded_at TIMESTAMP;
