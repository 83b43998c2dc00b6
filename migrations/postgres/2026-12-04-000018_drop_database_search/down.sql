CREATE INDEX listings_newest_idx ON listings (id) WHERE status = 'active' AND quantity > 0;
CREATE INDEX listings_price_idx ON listings (price_vnd, id) WHERE status = 'active' AND quantity > 0;
CREATE INDEX listings_category_idx ON listings (category_code, id) WHERE status = 'active' AND quantity > 0;
CREATE INDEX listings_province_idx ON listings (province_code, id) WHERE status = 'active' AND quantity > 0;
CREATE INDEX listings_ward_idx ON listings (ward_code, id) WHERE status = 'active' AND quantity > 0;
CREATE INDEX listings_category_price_idx ON listings (category_code, price_vnd, id) WHERE status = 'active' AND quantity > 0;
CREATE INDEX listings_province_price_idx ON listings (province_code, price_vnd, id) WHERE status = 'active' AND quantity > 0;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX listings_title_search_trgm_idx ON listings USING gin (title_search gin_trgm_ops)
    WHERE status = 'active' AND quantity > 0;
