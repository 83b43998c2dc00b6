-- Operators stop a bad actor: a suspended person (helper, farmer), team or partner is refused with 403 until
-- reinstated. A suspended farmer's live listings are paused and marked, so reinstating resumes exactly those.
ALTER TABLE users ADD COLUMN suspended_at TIMESTAMP;
ALTER TABLE teams ADD COLUMN suspended_at TIMESTAMP;
ALTER TABLE partners ADD COLUMN suspended_at TIMESTAMP;
ALTER TABLE listings ADD COLUMN paused_by_suspension BOOLEAN NOT NULL DEFAULT FALSE;

-- What operators did to whom, and why: the operators' own audit log.
CREATE TABLE operator_audit (
    id          BIGSERIAL PRIMARY KEY,
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
    id          BIGSERIAL PRIMARY KEY,
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
ALTER TABLE outbox DROP CONSTRAINT outbox_status_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_status_check CHECK (status IN ('pending', 'sent', 'failed'));
