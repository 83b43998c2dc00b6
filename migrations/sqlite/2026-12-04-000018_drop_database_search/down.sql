CREATE INDEX catalogue_changes_changed_at_idx ON catalogue_changes (changed_at);
CREATE INDEX listings_newest_idx ON listings (id) WHERE status = 'active' AND quantity > 0;
CREATE INDEX listings_price_idx ON listings (price_vnd, id) WHERE status = 'active' AND quantity > 0;
CREATE INDEX listings_category_idx ON listings (category_code, id) WHERE status = 'active' AND quantity > 0;
CREATE INDEX listings_province_idx ON listings (province_code, id) WHERE status = 'active' AND quantity > 0;
CREATE INDEX listings_ward_idx ON listings (ward_code, id) WHERE status = 'active' AND quantity > 0;
CREATE INDEX listings_category_price_idx ON listings (category_code, price_vnd, id) WHERE status = 'active' AND quantity > 0;
CREATE INDEX listings_province_price_idx ON listings (province_code, price_vnd, id) WHERE status = 'active' AND quantity > 0;
CREATE VIRTUAL TABLE listings_fts USING fts5(
    title_search, content = 'listings', content_rowid = 'id', tokenize = 'unicode61', prefix = '2 3'
);
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
INSERT INTO listings_fts (listings_fts) VALUES ('rebuild');
