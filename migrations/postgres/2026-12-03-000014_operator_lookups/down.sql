ALTER TABLE listings DROP COLUMN paused_by_hiding;
ALTER TABLE listings DROP COLUMN hidden_reason;
ALTER TABLE listings DROP COLUMN hidden_by;
ALTER TABLE listings DROP COLUMN hidden_at;
DROP INDEX orders_buyer_phone_idx;
