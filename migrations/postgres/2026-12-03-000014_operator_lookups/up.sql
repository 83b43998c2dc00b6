-- Operators look orders up by the buyer's phone (kept in E.164, so one index serves every way it is typed).
CREATE INDEX orders_buyer_phone_idx ON orders (buyer_phone, id);

-- An operator hides a listing with a reason the farmer is told: it is paused, and marked so that only an
-- operator brings it back; `paused_by_hiding` says it was live when hidden, so unhiding puts it back on sale
-- (a listing the farmer had paused stays paused).
ALTER TABLE listings ADD COLUMN hidden_at TIMESTAMP;
ALTER TABLE listings ADD COLUMN hidden_by BIGINT REFERENCES users (id);
ALTER TABLE listings ADD COLUMN hidden_reason TEXT;
ALTER TABLE listings ADD COLUMN paused_by_hiding BOOLEAN NOT NULL DEFAULT FALSE;
