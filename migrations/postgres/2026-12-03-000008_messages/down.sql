ALTER TABLE shipments DROP COLUMN reminded_at;
DROP TABLE notifications;
DROP TABLE sms_inbound;
DROP INDEX outbox_recipient_idx;
-- Phone rows cannot stay under the narrower CHECK.
DELETE FROM outbox WHERE channel IN ('sms', 'zns');
ALTER TABLE outbox DROP COLUMN segments;
ALTER TABLE outbox DROP COLUMN kind;
ALTER TABLE outbox DROP CONSTRAINT outbox_channel_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_channel_check CHECK (channel IN ('email', 'webhook'));
