-- Monthly rollups beside the daily ones, so a report over months reads a row per month, not per day: the
-- step re-sums a month from its days whenever one of its days changes.
CREATE TABLE report_months (
    month               TEXT    NOT NULL,
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
    PRIMARY KEY (month, ward_code, helper_id)
) WITHOUT ROWID;

-- A month's duration histograms, each whole in one row ("tenths:shipments" pairs, comma-separated), cut three
-- ways: per province (ward_code 0, helper_id -1), per commune (helper_id -1) and per enrolling helper within a
-- province (ward_code 0). A year's medians then read a few rows per place instead of one per shipment.
CREATE TABLE report_month_durations (
    month         TEXT    NOT NULL,
    province_code INTEGER NOT NULL,
    ward_code     INTEGER NOT NULL,
    helper_id     BIGINT  NOT NULL,
    measure       TEXT    NOT NULL CHECK (measure IN ('accept', 'deliver')),
    histogram     TEXT    NOT NULL,
    PRIMARY KEY (month, province_code, ward_code, helper_id, measure)
) WITHOUT ROWID;

-- The months in which a farmer had a shipment accepted.
CREATE TABLE report_seller_months (
    month     TEXT   NOT NULL,
    farmer_id BIGINT NOT NULL,
    PRIMARY KEY (month, farmer_id)
) WITHOUT ROWID;

-- Rolls everything up again on the next run, so the months of past days are filled in.
DELETE FROM report_watermark;
