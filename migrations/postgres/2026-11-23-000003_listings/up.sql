-- Photos (stored under content-derived names) and produce listings.
CREATE TABLE media (
    id           BIGSERIAL PRIMARY KEY,
    owner_id     BIGINT    NOT NULL REFERENCES users (id),
    display_name TEXT      NOT NULL,
    thumb_name   TEXT      NOT NULL,
    width        INTEGER   NOT NULL,
    height       INTEGER   NOT NULL,
    bytes        INTEGER   NOT NULL,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX media_owner_id_idx ON media (owner_id);

CREATE TABLE listings (
    id             BIGSERIAL PRIMARY KEY,
    farmer_id      BIGINT    NOT NULL REFERENCES users (id),
    title          TEXT      NOT NULL,
    -- search_key(title) between spaces, so "word starts with" is LIKE '% term%' (trigram-indexed on PostgreSQL).
    title_search   TEXT      NOT NULL,
    description    TEXT,
    category_code  TEXT      NOT NULL REFERENCES categories (code),
    unit           TEXT      NOT NULL CHECK (unit IN ('kg', 'qua', 'bo', 'con', 'hop', 'chai', 'lit', 'goi')),
    unit_weight_g  INTEGER   NOT NULL CHECK (unit_weight_g > 0),
    price_vnd      BIGINT    NOT NULL CHECK (price_vnd > 0),
    quantity       BIGINT    NOT NULL CHECK (quantity >= 0),
    status         TEXT      NOT NULL CHECK (status IN ('active', 'paused', 'archived')),
    ward_code      INTEGER   NOT NULL REFERENCES wards (code),
    province_code  INTEGER   NOT NULL REFERENCES provinces (code),
    photo_id       BIGINT    REFERENCES media (id),
    available_from TIMESTAMP,
    ocop_stars     INTEGER   CHECK (ocop_stars BETWEEN 1 AND 5),
    vietgap        BOOLEAN   NOT NULL,
    organic        BOOLEAN   NOT NULL,
    -- Bumped by every change: the ETag of the listing and of its farmer's storefront.
    version        BIGINT    NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL
);
-- The catalogue shows active listings with stock; these serve its sorts and filters.
CREATE INDEX listings_newest_idx ON listings (id) WHERE status = 'active' AND quantity > 0;
CREATE INDEX listings_price_idx ON listings (price_vnd, id) WHERE status = 'active' AND quantity > 0;
CREATE INDEX listings_category_idx ON listings (category_code, id) WHERE status = 'active' AND quantity > 0;
CREATE INDEX listings_province_idx ON listings (province_code, id) WHERE status = 'active' AND quantity > 0;
CREATE INDEX listings_ward_idx ON listings (ward_code, id) WHERE status = 'active' AND quantity > 0;
CREATE INDEX listings_category_price_idx ON listings (category_code, price_vnd, id) WHERE status = 'active' AND quantity > 0;
CREATE INDEX listings_province_price_idx ON listings (province_code, price_vnd, id) WHERE status = 'active' AND quantity > 0;
CREATE INDEX listings_farmer_idx ON listings (farmer_id, id);

CREATE TABLE listing_photos (
    listing_id BIGINT  NOT NULL REFERENCES listings (id),
    media_id   BIGINT  NOT NULL REFERENCES media (id),
    position   INTEGER NOT NULL,
    PRIMARY KEY (listing_id, media_id)
);

-- Word-start search (LIKE '% term%') over 100,000s of titles.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX listings_title_search_trgm_idx ON listings USING gin (title_search gin_trgm_ops)
    WHERE status = 'active' AND quantity > 0;
