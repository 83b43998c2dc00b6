-- Reference data: Vietnam's administrative units since July 2025 and produce categories.
-- `name_search` holds the accent-free, lower-case form (see src/domain/text.rs) that searches match.
CREATE TABLE provinces (
    code          INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL,
    name_search   TEXT    NOT NULL,
    division_type TEXT    NOT NULL,
    codename      TEXT    NOT NULL UNIQUE,
    phone_code    INTEGER NOT NULL,
    region        TEXT    NOT NULL CHECK (region IN ('north', 'central', 'south'))
);

CREATE TABLE wards (
    code          INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL,
    name_search   TEXT    NOT NULL,
    division_type TEXT    NOT NULL,
    codename      TEXT    NOT NULL,
    province_code INTEGER NOT NULL REFERENCES provinces (code)
);
CREATE INDEX wards_province_code_idx ON wards (province_code, name_search);

CREATE TABLE categories (
    code          TEXT    PRIMARY KEY,
    name_vi       TEXT    NOT NULL,
    name_en       TEXT    NOT NULL,
    default_unit  TEXT    NOT NULL,
    unit_weight_g INTEGER NOT NULL CHECK (unit_weight_g > 0),
    keywords      TEXT    NOT NULL,
    sort_order    INTEGER NOT NULL
);

-- Which seed file was loaded with which content, so a restart with unchanged seeds writes nothing.
CREATE TABLE seed_runs (
    name       TEXT      PRIMARY KEY,
    checksum   TEXT      NOT NULL,
    applied_at TIMESTAMP NOT NULL
);
