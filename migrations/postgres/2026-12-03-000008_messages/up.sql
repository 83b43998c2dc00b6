-- Messages to phones: the outbox carries SMS and Zalo ZNS rows too (`recipient` is then the phone in E.164),
-- says what kind of message a row is, and records the SMS segments it cost.
ALTER TABLE outbox DROP CONSTRAINT outbox_channel_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_channel_check CHECK (channel IN ('email', 'webhook', 'sms', 'zns'));
ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN segments INTEGER;
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
    id         BIGSERIAL PRIMARY KEY,
    user_id    BIGINT    NOT NULL REFERENCES users (id),
    kind       TEXT      NOT NULL,
    text       TEXT      NOT NULL,
    created_at TIMESTAMP NOT NULL,
    read_at    TIMESTAMP
);
CREATE INDEX notifications_user_idx ON notifications (user_id, id);

-- When the farmer was reminded of a shipment still waiting for their answer.
ALTER TABLE shipments ADD COLUMN reminded_at TIMESTAMP;
