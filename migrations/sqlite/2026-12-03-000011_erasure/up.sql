-- People own their data (issue 16 item 5): when a person erased their account (it stays, anonymised, for
-- the books), and the one-time codes a guest buyer asks for by SMS to export or erase their orders.
ALTER TABLE users ADD COLUMN erased_at TIMESTAMP;

-- A code is asked for through one order (its code and phone) and opens every guest order with that phone.
-- Only its argon2id hash is kept; it is void once used, expired or guessed wrong too often.
CREATE TABLE privacy_codes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id   BIGINT    NOT NULL REFERENCES orders (id),
    code_hash  TEXT      NOT NULL,
    attempts   INTEGER   NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP
);
CREATE INDEX privacy_codes_order_idx ON privacy_codes (order_id, id);
