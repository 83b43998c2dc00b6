-- Incoming bank transfers as the bank-notification service reports them, each once (its `id`), with what
-- became of each: it paid an order, it is an outgoing transfer (kept, not matched), or it waits in the
-- exceptions list for an operator.
CREATE TABLE bank_transfers (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_id BIGINT    NOT NULL UNIQUE,
    gateway         TEXT      NOT NULL,
    transferred_at  TIMESTAMP NOT NULL,
    account_number  TEXT      NOT NULL,
    content         TEXT      NOT NULL,
    direction       TEXT      NOT NULL CHECK (direction IN ('in', 'out')),
    amount_vnd      BIGINT    NOT NULL CHECK (amount_vnd >= 0),
    reference_code  TEXT,
    outcome         TEXT      NOT NULL CHECK (outcome IN ('paid', 'outgoing', 'exception')),
    order_id        BIGINT    REFERENCES orders (id),
    received_at     TIMESTAMP NOT NULL
);
CREATE INDEX bank_transfers_order_idx ON bank_transfers (order_id);

-- A transfer that paid no order by itself, until an operator applies it to an order, records a refund owed
-- to the payer, or closes it with a note.
CREATE TABLE payment_exceptions (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    transfer_id      BIGINT    NOT NULL UNIQUE REFERENCES bank_transfers (id),
    kind             TEXT      NOT NULL CHECK (kind IN ('partial', 'excess', 'duplicate', 'late', 'unmatched')),
    order_id         BIGINT    REFERENCES orders (id),
    expected_vnd     BIGINT,
    status           TEXT      NOT NULL CHECK (status IN ('open', 'resolved')),
    resolution       TEXT      CHECK (resolution IN ('apply', 'refund', 'ignore')),
    applied_order_id BIGINT    REFERENCES orders (id),
    refund_vnd       BIGINT    CHECK (refund_vnd >= 0),
    note             TEXT,
    resolved_by      BIGINT    REFERENCES users (id),
    resolved_at      TIMESTAMP,
    created_at       TIMESTAMP NOT NULL
);
CREATE INDEX payment_exceptions_status_idx ON payment_exceptions (status, id);
