UPDATE outbox SET status = 'sent' WHERE status = 'failed';
ALTER TABLE outbox DROP CONSTRAINT outbox_status_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_status_check CHECK (status IN ('pending', 'sent'));
DROP TABLE job_holds;
DROP TABLE operator_audit;
ALTER TABLE listings DROP COLUMN paused_by_suspension;
ALTER TABLE partners DROP COLUMN suspended_at;
ALTER TABLE teams DROP COLUMN suspended_at;
ALTER TABLE users DROP COLUMN suspended_at;
