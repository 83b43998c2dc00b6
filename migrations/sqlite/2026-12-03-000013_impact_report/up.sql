-- The impact report reads per-day rollups kept current by a background step, never the order tables.
-- When a shipment was accepted (by the farmer, by auto-accept) and when it was rejected or cancelled: the
-- report's day of those events and its time to accept.
ALTER TABLE shipments ADD COLUMN accepted_at TIMESTAMP;
ALTER TABLE shipments ADD COLUMN withdrawn_at TIMESTAMP;
UPDATE shipments SET accepted_at = created_at WHERE status = 'accepted';
UPDATE shipments SET withdrawn_at = updated_at WHERE status IN ('rejected', 'cancelled');
-- What the rollup step looks up: rows changed since its last run, and the events of one day.
CREATE INDEX shipments_updated_idx ON shipments (updated_at);
CREATE INDEX shipments_created_idx ON shipments (created_at);
CREATE INDEX shipments_accepted_idx ON shipments (accepted_at) WHERE accepted_at IS NOT NULL;
CREATE INDEX shipments_withdrawn_idx ON shipments (withdrawn_at) WHERE withdrawn_at IS NOT NULL;
CREATE INDEX fulfilment_jobs_updated_idx ON fulfilment_jobs (updated_at);
CREATE INDEX fulfilment_jobs_delivered_at_idx ON fulfilment_jobs (delivered_at) WHERE delivered_at IS NOT NULL;
CREATE INDEX users_updated_idx ON users (updated_at);
CREATE INDEX users_created_idx ON users (created_at);

-- Per Vietnamese day, commune (the farmer's) and helper (who enrolled the farmer; who made the listing for
-- listings made on a farmer's behalf; 0 for none): the additive figures of the report.
CREATE TABLE report_days (
    day                 TEXT    NOT NULL,
    ward_code           INTEGER NOT NULL,
    helper_id           BIGINT  NOT NULL,
    self_enrolled       BIGINT  NOT NULL,
    enrolled_by_helper  BIGINT  NOT NULL,
    orders              BIGINT  NOT NULL,
    goods_value_vnd     BIGINT  NOT NULL,
    delivered_shipments BIGINT  NOT NULL,
    delivered_value_vnd BIGINT  NOT NULL,
    cancelled_shipments BIGINT  NOT NULL,
    rejected_shipments  BIGINT  NOT NULL,
    cod_collected_vnd   BIGINT  NOT NULL,
    listings_by_helpers BIGINT  NOT NULL,
    PRIMARY KEY (day, ward_code, helper_id)
) WITHOUT ROWID;

-- Histograms of durations (`accept`: order placed to accepted; `deliver`: order placed to delivered) in
-- tenths of an hour, per day of the ending event, so medians come from the rollups too.
CREATE TABLE report_durations (
    day       TEXT    NOT NULL,
    ward_code INTEGER NOT NULL,
    helper_id BIGINT  NOT NULL,
    measure   TEXT    NOT NULL CHECK (measure IN ('accept', 'deliver')),
    tenths    INTEGER NOT NULL,
    shipments BIGINT  NOT NULL,
    PRIMARY KEY (day, ward_code, helper_id, measure, tenths)
) WITHOUT ROWID;

-- The days on which a farmer had a shipment accepted: active sellers of a period are counted from these.
CREATE TABLE report_seller_days (
    farmer_id BIGINT NOT NULL,
    day       TEXT   NOT NULL,
    PRIMARY KEY (farmer_id, day)
) WITHOUT ROWID;
CREATE INDEX report_seller_days_day_idx ON report_seller_days (day);

-- Live listings counted by each run of the rollup step, the last count of a day kept for that day.
CREATE TABLE report_listings_live (
    day       TEXT    NOT NULL,
    ward_code INTEGER NOT NULL,
    helper_id BIGINT  NOT NULL,
    listings  BIGINT  NOT NULL,
    PRIMARY KEY (day, ward_code, helper_id)
) WITHOUT ROWID;

-- Up to when the rollups are current: rows changed at or after this (less a margin) are looked at again.
CREATE TABLE report_watermark (
    id      INTEGER   PRIMARY KEY CHECK (id = 1),
    through TIMESTAMP NOT NULL
);
