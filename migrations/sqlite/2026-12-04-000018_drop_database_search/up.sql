-- The catalogue and its search are served from the in-memory index (src/listings/index), so the database's
-- own search structures only cost: every stock change of an order rewrote them. Operator look-ups (any
-- status) never used them.
DROP TRIGGER listings_fts_insert;
DROP TRIGGER listings_fts_delete;
DROP TRIGGER listings_fts_update;
DROP TABLE listings_fts;
DROP INDEX listings_newest_idx;
DROP INDEX listings_price_idx;
DROP INDEX listings_category_idx;
DROP INDEX listings_province_idx;
DROP INDEX listings_ward_idx;
DROP INDEX listings_category_price_idx;
DROP INDEX listings_province_price_idx;
-- Only PostgreSQL reads the change feed by time (its window of late commits).
DROP INDEX catalogue_changes_changed_at_idx;
