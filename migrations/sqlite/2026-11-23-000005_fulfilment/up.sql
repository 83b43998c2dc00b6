-- Money a partner hands over for COD it collected; idempotent on the partner's own remittance id.
CREATE TABLE cod_remittances (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    partner_id    BIGINT    NOT NULL REFERENCES partners (id),
    remittance_id TEXT      NOT NULL,
    amount_vnd    BIGINT    NOT NULL CHECK (amount_vnd >= 0),
    request_hash  TEXT      NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    UNIQUE (partner_id, remittance_id)
);

-- One job per shipment that is accepted and paid for (or cash on delivery): what partners pull and carry.
CREATE TABLE fulfilment_jobs (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    shipment_id           BIGINT    NOT NULL UNIQUE REFERENCES shipments (id),
    order_id              BIGINT    NOT NULL REFERENCES orders (id),
    pickup_province_code  INTEGER   NOT NULL REFERENCES provinces (code),
    pickup_ward_code      INTEGER   NOT NULL REFERENCES wards (code),
    dropoff_province_code INTEGER   NOT NULL REFERENCES provinces (code),
    dropoff_ward_code     INTEGER   NOT NULL REFERENCES wards (code),
    weight_g              BIGINT    NOT NULL CHECK (weight_g >= 0),
    cod_vnd               BIGINT    NOT NULL CHECK (cod_vnd >= 0),
    declared_value_vnd    BIGINT    NOT NULL CHECK (declared_value_vnd >= 0),
    item_summary          TEXT      NOT NULL,
    status                TEXT      NOT NULL CHECK (status IN ('available', 'claimed', 'picked_up', 'pickup_failed',
                              'in_transit', 'out_for_delivery', 'delivery_failed', 'delivered', 'returning',
                              'returned', 'lost', 'damaged', 'cancelled')),
    partner_id            BIGINT    REFERENCES partners (id),
    -- The fencing token of the live claim: a new one on every claim, so a holder whose lease ran out is refused.
    lease_id              TEXT,
    lease_expires_at      TIMESTAMP,
    -- Claims that ran out without a pickup; past the limit the job is flagged for an operator.
    attempts              INTEGER   NOT NULL CHECK (attempts >= 0),
    needs_operator        BOOLEAN   NOT NULL,
    tracking_code         TEXT,
    cod_collected_vnd     BIGINT    CHECK (cod_collected_vnd >= 0),
    remittance_id         BIGINT    REFERENCES cod_remittances (id),
    delivered_at          TIMESTAMP,
    created_at            TIMESTAMP NOT NULL,
    updated_at            TIMESTAMP NOT NULL
);
CREATE INDEX fulfilment_jobs_available_idx ON fulfilment_jobs (pickup_province_code, id) WHERE status = 'available';
CREATE INDEX fulfilment_jobs_leases_idx ON fulfilment_jobs (lease_expires_at) WHERE status = 'claimed';
CREATE INDEX fulfilment_jobs_partner_idx ON fulfilment_jobs (partner_id, id);
CREATE INDEX fulfilment_jobs_delivered_idx ON fulfilment_jobs (partner_id, delivered_at) WHERE status = 'delivered';
CREATE INDEX fulfilment_jobs_order_idx ON fulfilment_jobs (order_id);

-- Every event a partner sent, applied or not: the shipment's timeline. `event_id` makes a resend a no-op.
CREATE TABLE job_events (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id            BIGINT    NOT NULL REFERENCES fulfilment_jobs (id),
    partner_id        BIGINT    NOT NULL REFERENCES partners (id),
    event_id          TEXT      NOT NULL,
    status            TEXT      NOT NULL,
    -- false when the event came late (the job had already moved past it) and only joined the history.
    applied           BOOLEAN   NOT NULL,
    occurred_at       TIMESTAMP NOT NULL,
    recorded_at       TIMESTAMP NOT NULL,
    tracking_code     TEXT,
    carrier_status    TEXT,
    note              TEXT,
    cod_collected_vnd BIGINT,
    UNIQUE (job_id, event_id)
);

-- Where a partner wants new jobs and cancellations pushed, and the secret they are signed with.
CREATE TABLE partner_webhooks (
    partner_id BIGINT    PRIMARY KEY REFERENCES partners (id),
    url        TEXT      NOT NULL,
    secret     TEXT      NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- The outbox now carries webhook calls as well as email: `recipient` is then the partner's id.
ALTER TABLE outbox ADD COLUMN channel TEXT NOT NULL DEFAULT 'email' CHECK (channel IN ('email', 'webhook'));
