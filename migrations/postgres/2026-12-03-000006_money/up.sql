-- A reason the system gave (expiry, an unpaid transfer, the buyer's cancellation) is stored as a code and
-- rendered in the reader's language; `reject_reason` keeps what a farmer typed.
ALTER TABLE shipments ADD COLUMN reason_code TEXT CHECK (reason_code IN ('expired', 'unpaid', 'buyer_cancelled'));

-- Money owed back to a buyer who paid for a shipment that will not be delivered: one per shipment, so
-- nothing is refunded twice; an operator marks it done once paid back.
CREATE TABLE refunds (
    id          BIGSERIAL PRIMARY KEY,
    order_id    BIGINT    NOT NULL REFERENCES orders (id),
    shipment_id BIGINT    NOT NULL UNIQUE REFERENCES shipments (id),
    amount_vnd  BIGINT    NOT NULL CHECK (amount_vnd >= 0),
    status      TEXT      NOT NULL CHECK (status IN ('owed', 'done')),
    created_at  TIMESTAMP NOT NULL,
    done_at     TIMESTAMP,
    done_by     BIGINT    REFERENCES users (id)
);
CREATE INDEX refunds_owed_idx ON refunds (id) WHERE status = 'owed';
CREATE INDEX refunds_order_idx ON refunds (order_id);

-- Cash on delivery collected short of what was due (the buyer kept part of the parcel, say): visible to the
-- partner, operators and the farmer until an operator resolves it.
CREATE TABLE cod_discrepancies (
    id              BIGSERIAL PRIMARY KEY,
    job_id          BIGINT    NOT NULL UNIQUE REFERENCES fulfilment_jobs (id),
    partner_id      BIGINT    NOT NULL REFERENCES partners (id),
    expected_vnd    BIGINT    NOT NULL CHECK (expected_vnd >= 0),
    collected_vnd   BIGINT    NOT NULL CHECK (collected_vnd >= 0),
    reason          TEXT      NOT NULL,
    status          TEXT      NOT NULL CHECK (status IN ('open', 'resolved')),
    created_at      TIMESTAMP NOT NULL,
    resolved_at     TIMESTAMP,
    resolved_by     BIGINT    REFERENCES users (id),
    resolution_note TEXT
);
CREATE INDEX cod_discrepancies_open_idx ON cod_discrepancies (partner_id, id) WHERE status = 'open';
