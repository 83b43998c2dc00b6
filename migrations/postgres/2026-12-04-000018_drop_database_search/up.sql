-- The catalogue and its search are served from the in-memory index (src/listings/index), so the database's
-- own search structures only cost: every stock change of an order rewrote them (a change of `quantity`, in
-- their predicate, is never a HOT update). Operator look-ups (any status) never used them.
DROP INDEX listings_title_search_trgm_idx;
DROP INDEX listings_newest_idx;
DROP INDEX listings_price_idx;
DROP INDEX listings_category_idx;
DROP INDEX listings_province_idx;
DROP INDEX listings_ward_idx;
DROP INDEX listings_category_price_idx;
DROP INDEX listings_province_price_idx;
