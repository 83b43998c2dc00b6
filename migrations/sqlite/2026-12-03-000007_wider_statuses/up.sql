-- An order's status now follows its shipments to the end; listings may be sold by more units. SQLite cannot
-- change a CHECK in place, so both tables are rebuilt the documented way (sqlite.org/lang_altertable.html,
-- "making other kinds of table schema changes"): foreign keys off, copy into a new table, drop, rename,
-- recreate the indexes and triggers, all in one transaction. Re-running it rebuilds again.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

DROP TABLE IF EXISTS orders_rebuilt;
CREATE TABLE orders_rebuilt (
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
    status             TEXT      NOT NULL CHECK (status IN ('placed', 'confirmed', 'in_delivery', 'completed',
                                                            'partly_cancelled', 'cancelled')),
    items_total_vnd    BIGINT    NOT NULL CHECK (items_total_vnd >= 0),
    shipping_total_vnd BIGINT    NOT NULL CHECK (shipping_total_vnd >= 0),
    total_vnd          BIGINT    NOT NULL CHECK (total_vnd >= 0),
    lang               TEXT      NOT NULL,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL
);
INSERT INTO orders_rebuilt (id, code, buyer_id, buyer_name, buyer_phone, buyer_email, ward_code, province_code,
        street, note, payment_method, payment_status, status, items_total_vnd, shipping_total_vnd, total_vnd, lang,
        created_at, updated_at)
    SELECT id, code, buyer_id, buyer_name, buyer_phone, buyer_email, ward_code, province_code, street, note,
        payment_method, payment_status, status, items_total_vnd, shipping_total_vnd, total_vnd, lang, created_at,
        updated_at
    FROM orders;
DROP TABLE orders;
ALTER TABLE orders_rebuilt RENAME TO orders;
CREATE INDEX orders_buyer_id_idx ON orders (buyer_id, id);
CREATE INDEX orders_status_idx ON orders (status, id);

DROP TABLE IF EXISTS listings_rebuilt;
CREATE TABLE listings_rebuilt (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    farmer_id      BIGINT    NOT NULL REFERENCES users (id),
    title          TEXT      NOT NULL,
    -- search_key(title) between spaces, so "word starts with" is LIKE '% term%' (trigram-indexed on PostgreSQL).
    title_search   TEXT      NOT NULL,
    description    TEXT,
    category_code  TEXT      NOT NULL REFERENCES categories (code),
    unit           TEXT      NOT NULL CHECK (unit IN ('kg', 'qua', 'bo', 'con', 'hop', 'chai', 'lit', 'goi', 'nai',
                                                      'buong', 'mo', 'tui', 'bao', 'thung', 'khay', 'vi')),
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
INSERT INTO listings_rebuilt (id, farmer_id, title, title_search, description, category_code, unit, unit_weight_g,
        price_vnd, quantity, status, ward_code, province_code, photo_id, available_from, ocop_stars, vietgap, organic,
        version, created_at, updated_at)
    SELECT id, farmer_id, title, title_search, description, category_code, unit, unit_weight_g, price_vnd, quantity,
        status, ward_code, province_code, photo_id, available_from, ocop_stars, vietgap, organic, version, created_at,
        updated_at
    FROM listings;
-- The triggers that keep listings_fts in step go with the old table; the rows keep their ids, so the index
-- stays right.
DROP TABLE listings;
ALTER TABLE listings_rebuilt RENAME TO listings;
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
