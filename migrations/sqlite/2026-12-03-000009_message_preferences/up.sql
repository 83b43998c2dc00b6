-- How a person wants to be told: email (when they gave one), texts to their phone at all, and texts by Zalo
-- (else plain SMS). The in-app list is always kept. `digest_through`: the helpers' actions for this farmer up
-- to this moment were in a daily digest already.
ALTER TABLE users ADD COLUMN email_messages BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE users ADD COLUMN text_messages BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE users ADD COLUMN zalo_messages BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE users ADD COLUMN digest_through TIMESTAMP;
-- The daily digest reads a day of the audit log, every minute.
CREATE INDEX audit_log_created_idx ON audit_log (created_at);
