-- Listings may also be sold per nải, buồng, mớ, túi, bao, thùng, khay and vỉ.
-- SQLite cannot change a CHECK constraint in place, so the table is rebuilt as SQLite's ALTER TABLE
-- documentation describes: foreign keys off (outside any transaction, hence metadata.toml), a copy under the
-- new definition, the swap, then its indexes and search triggers again. Ids are kept, so photos, order lines and
-- the search index still point at the same rows.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
CREATE TABLE listings_rebuilt (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    farmer_id      BIGINT    NOT NULL REFERENCES users (id),
    title          TEXT      NOT NULL,
    -- search_key(title) between spaces, so "word starts with" is LIKE '% term%' (trigram-indexed on PostgreSQL).
    title_search   TEXT      NOT NULL,
    description    TEXT,
    category_code  TEXT      NOT NULL REFERENCES categories (code),
    unit           TEXT      NOT NULL CHECK (unit IN ('kg', 'qua', 'nai', 'buong', 'bo', 'mo', 'con', 'hop', 'chai', 'lit', 'tui', 'bao', 'thung', 'khay', 'vi', 'goi')),
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
INSERT INTO listings_rebuilt SELECT * FROM listings;
-- AUTOINCREMENT never hands out an id again, not even one of a row deleted before the rebuild.
UPDATE sqlite_sequence SET seq = (SELECT seq FROM sqlite_sequence WHERE name = 'listings') WHERE name = 'listings_rebuilt';
DROP TABLE listings;
ALTER TABLE listings_rebuilt RENAME TO listings;
-- The catalogue shows active listings with stock; these serve its sorts and filters.
CREATE INDEX listings_newest_idx ON listings (id) WHERE status = 'active' AND quantity > 0;
CREATE INDEX listings_price_idx ON listings (price_vnd, id) WHERE status = 'active' AND quantity > 0;
CREATE INDEX listings_category_idx ON listings (category_code, id) WHERE status = 'active' AND quantity > 0;
CREATE INDEX listings_province_idx ON listings (province_code, id) WHERE status = 'active' AND quantity > 0;
CREATE INDEX listings_ward_idx ON listings (ward_code, id) WHERE status = 'active' AND quantity > 0;
CREATE INDEX listings_category_price_idx ON listings (category_code, price_vnd, id) WHERE status = 'active' AND quantity > 0;
CREATE INDEX listings_province_price_idx ON listings (province_code, price_vnd, id) WHERE status = 'active' AND quantity > 0;
CREATE INDEX listings_farmer_idx ON listings (farmer_id, id);
CREATE TRIGGER listings_fts_insert AFTER INSERT ON listings BEGIN
    INSERT INTO listings_fts (rowid, title_search) VALUES (new.id, new.title_search);
END;
CREATE TRIGGER listings_fts_delete AFTER DELETE ON listings BEGIN
    INSERT INTO listings_fts (listings_fts, rowid, title_search) VALUES ('delete', old.id, old.title_search);
END;
CREATE TRIGGER listings_fts_update AFTER UPDATE OF title_search ON listings BEGIN
    INSERT INTO listings_fts (listings_fts, rowid, title_search) VALUES ('delete', old.id, old.title_search);
    INSERT INTO listings_fts (rowid, title_search) VALUES (new.id, new.title_search);
END;
COMMIT;
PRAGMA foreign_keys = ON;
