-- Accounts: farmers (phone + PIN), buyers, community helpers in teams, operators; partners with API keys.
-- Secrets are stored only as hashes: argon2id for PINs and passwords, SHA-256 for random tokens and keys.
CREATE TABLE teams (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT      NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE team_wards (
    team_id   BIGINT  NOT NULL REFERENCES teams (id),
    ward_code INTEGER NOT NULL REFERENCES wards (code),
    PRIMARY KEY (team_id, ward_code)
);
CREATE INDEX team_wards_ward_code_idx ON team_wards (ward_code);

CREATE TABLE users (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    role            TEXT      NOT NULL CHECK (role IN ('farmer', 'buyer', 'helper', 'operator')),
    name            TEXT      NOT NULL,
    phone           TEXT,
    email           TEXT,
    ward_code       INTEGER   REFERENCES wards (code),
    team_id         BIGINT    REFERENCES teams (id),
    secret_hash     TEXT      NOT NULL,
    enrolled_by     BIGINT    REFERENCES users (id),
    consent_version TEXT,
    consent_at      TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
-- One phone, one farmer account (and one buyer account, one helper account…); the same for emails.
CREATE UNIQUE INDEX users_role_phone_key ON users (role, phone);
CREATE UNIQUE INDEX users_role_email_key ON users (role, email);
CREATE INDEX users_role_ward_code_idx ON users (role, ward_code);

CREATE TABLE sessions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    BIGINT    NOT NULL REFERENCES users (id),
    token_hash TEXT      NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);

-- A farmer withdrew a helper's right to act for them.
CREATE TABLE helper_revocations (
    farmer_id  BIGINT    NOT NULL REFERENCES users (id),
    helper_id  BIGINT    NOT NULL REFERENCES users (id),
    revoked_at TIMESTAMP NOT NULL,
    PRIMARY KEY (farmer_id, helper_id)
);

-- Everything done on a farmer's behalf, readable by the farmer.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_id   BIGINT    NOT NULL REFERENCES users (id),
    farmer_id  BIGINT    NOT NULL REFERENCES users (id),
    action     TEXT      NOT NULL,
    entity     TEXT      NOT NULL,
    entity_id  TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX audit_log_farmer_id_idx ON audit_log (farmer_id, id);

CREATE TABLE partners (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT      NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE partner_provinces (
    partner_id    BIGINT  NOT NULL REFERENCES partners (id),
    province_code INTEGER NOT NULL REFERENCES provinces (code),
    PRIMARY KEY (partner_id, province_code)
);

CREATE TABLE api_keys (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    partner_id BIGINT    NOT NULL REFERENCES partners (id),
    -- The first characters of the key, so people can tell their keys apart.
    prefix     TEXT      NOT NULL,
    key_hash   TEXT      NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX api_keys_partner_id_idx ON api_keys (partner_id);
