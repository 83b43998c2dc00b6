DROP INDEX audit_log_created_idx;
ALTER TABLE users DROP COLUMN digest_through;
ALTER TABLE users DROP COLUMN zalo_messages;
ALTER TABLE users DROP COLUMN text_messages;
ALTER TABLE users DROP COLUMN email_messages;
