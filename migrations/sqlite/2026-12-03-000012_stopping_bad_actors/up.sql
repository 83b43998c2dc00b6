-- Operators stop a bad actor: a suspended person (helper, farmer), team or partner is refused with 403 until
-- reinstated. A suspended farmer's live listings are paused and marked, so reinstating resumes exactly those.
ALTER TABLE users ADD COLUMN suspended_at TIMESTAMP;
ALTER TABLE teams ADD COLUMN suspended_at TIMESTAMP;
ALTER TABLE partners ADD COLUMN suspended_at TIMESTAMP;
ALTER TABLE listings ADD COLUMN paused_by_suspension BOOLEAN NOT NULL DEFAULT FALSE;

-- What operators did to whom, and why: the operators' own audit log.
CREATE TABLE operator_audit (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    operator_id BIGINT    NOT NULL REFERENCES users (id),
    action      TEXT      NOT NULL,
    subject     TEXT      NOT NULL,
    subject_id  BIGINT    NOT NULL,
    reason      TEXT      NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX operator_audit_subject_idx ON operator_audit (subject, subject_id);

-- Every claim of a job by a partner, and how it ended when the partner let go of it (`released`) or let the
-- lease run out (`lapsed`): claim, read the contacts, release leaves a trace.
CREATE TABLE job_holds (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id      BIGINT    NOT NULL REFERENCES fulfilment_jobs (id),
    partner_id  BIGINT    NOT NULL REFERENCES partners (id),
    lease_id    TEXT      NOT NULL,
    claimed_at  TIMESTAMP NOT NULL,
    ended_at    TIMESTAMP,
    ending      TEXT CHECK (ending IN ('released', 'lapsed'))
);
CREATE INDEX job_holds_lease_idx ON job_holds (lease_id);
CREATE INDEX job_holds_partner_idx ON job_holds (partner_id, claimed_at);

-- A partner call that keeps failing stops after a bounded number of attempts and is flagged `failed`.
-- SQLite cannot change a CHECK in place, so the outbox is rebuilt (no other table points at it).
CREATE TABLE outbox_rebuilt (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient       TEXT      NOT NULL,
    subject         TEXT      NOT NULL,
    body            TEXT      NOT NULL,
    status          TEXT      NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
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
INSERT INTO outbox_rebuilt SELECT id, recipient, subject, body, status, attempts, next_attempt_at, locked_until,
    last_error, created_at, sent_at, channel, kind, segments FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_rebuilt RENAME TO outbox;
CREATE INDEX outbox_pending_idx ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_recipient_idx ON outbox (recipient, created_at);
