-- Orders: one per checkout, split into one shipment per farmer; stock is taken in the same transaction.
CREATE TABLE orders (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    code               TEXT      NOT NULL UNIQUE,
    buyer_id           BIGINT    REFERENCES users (id),
    buyer_name         TEXT      NOT NULL,
    buyer_phone        TEXT      NOT NULL,
    buyer_email        TEXT,
    ward_code          INTEGER   NOT NULL REFERENCES wards (code),
    province_code      INTEGER   NOT NULL REFERENCES provinces (code),
    street             TEXT      NOT NULL,
    note               TEXT,
    payment_method     TEXT      NOT NULL CHECK (payment_method IN ('cod', 'bank_transfer')),
    payment_status     TEXT      NOT NULL CHECK (payment_status IN ('cod', 'awaiting_transfer', 'paid', 'void')),
    status             TEXT      NOT NULL CHECK (status IN ('placed', 'cancelled')),
    items_total_vnd    BIGINT    NOT NULL CHECK (items_total_vnd >= 0),
    shipping_total_vnd BIGINT    NOT NULL CHECK (shipping_total_vnd >= 0),
    total_vnd          BIGINT    NOT NULL CHECK (total_vnd >= 0),
    lang               TEXT      NOT NULL,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL
);
CREATE INDEX orders_buyer_id_idx ON orders (buyer_id, id);

CREATE TABLE shipments (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id        BIGINT    NOT NULL REFERENCES orders (id),
    farmer_id       BIGINT    NOT NULL REFERENCES users (id),
    status          TEXT      NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected', 'cancelled')),
    weight_g        BIGINT    NOT NULL CHECK (weight_g >= 0),
    items_total_vnd BIGINT    NOT NULL CHECK (items_total_vnd >= 0),
    fee_vnd         BIGINT    NOT NULL CHECK (fee_vnd >= 0),
    reject_reason   TEXT,
    -- Set once, in the transaction that puts the stock back, so it is never put back twice.
    stock_restored  BOOLEAN   NOT NULL,
    respond_by      TIMESTAMP NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX shipments_order_id_idx ON shipments (order_id);
CREATE INDEX shipments_farmer_id_idx ON shipments (farmer_id, id);
CREATE INDEX shipments_pending_idx ON shipments (respond_by) WHERE status = 'pending';

CREATE TABLE order_lines (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id       BIGINT  NOT NULL REFERENCES orders (id),
    shipment_id    BIGINT  NOT NULL REFERENCES shipments (id),
    listing_id     BIGINT  NOT NULL REFERENCES listings (id),
    title          TEXT    NOT NULL,
    unit           TEXT    NOT NULL,
    price_vnd      BIGINT  NOT NULL CHECK (price_vnd > 0),
    quantity       BIGINT  NOT NULL CHECK (quantity > 0),
    line_total_vnd BIGINT  NOT NULL CHECK (line_total_vnd > 0)
);
CREATE INDEX order_lines_shipment_id_idx ON order_lines (shipment_id);
-- Loading an order reads its lines; without this every order read scans all lines.
CREATE INDEX order_lines_order_id_idx ON order_lines (order_id, id);

-- One row per Idempotency-Key and caller: the request's hash and, once done, the answer to replay.
CREATE TABLE idempotency_keys (
    scope           TEXT      NOT NULL,
    idem_key        TEXT      NOT NULL,
    request_hash    TEXT      NOT NULL,
    response_status INTEGER,
    response_body   TEXT,
    created_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (scope, idem_key)
);

-- Mail written in the same transaction as the change it tells about; the sender delivers it later.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient       TEXT      NOT NULL,
    subject         TEXT      NOT NULL,
    body            TEXT      NOT NULL,
    status          TEXT      NOT NULL CHECK (status IN ('pending', 'sent')),
    attempts        INTEGER   NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until    TIMESTAMP,
    last_error      TEXT,
    created_at      TIMESTAMP NOT NULL,
    sent_at         TIMESTAMP
);
CREATE INDEX outbox_pending_idx ON outbox (next_attempt_at) WHERE status = 'pending';

-- Farmers who take every order without a tap.
ALTER TABLE users ADD COLUMN auto_accept BOOLEAN NOT NULL DEFAULT FALSE;
