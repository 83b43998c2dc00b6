-- Operators look orders up by the buyer's phone (kept in E.164, so one index serves every way it is typed).
CREATE INDEX orders_buyer_phone_idx ON orders (buyer_phone, id);

-- An operator hides a listing with a reason the farmer is told: it is paused, and marked so that only an
-- operator brings it back; `paused_by_hiding` says it was live when hidden, so unhiding puts it back on sale
-- (a listing the farmer had paused stays paused).
ALTER TABLE listings ADD COLUMN hidden_at TIMESTAMP;
-- (No REFERENCES here: SQLite cannot drop a column that takes part in a foreign key, which down.sql does.)
ALTER TABLE listings ADD COLUMN hidden_by BIGINT;
ALTER TABLE listings ADD COLUMN hidden_reason TEXT;
ALTER TABLE listings ADD COLUMN paused_by_hiding BOOLEAN NOT NULL DEFAULT FALSE;
