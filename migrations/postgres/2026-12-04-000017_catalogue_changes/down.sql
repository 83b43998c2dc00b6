DROP TRIGGER users_catalogue_update ON users;
DROP TRIGGER users_catalogue_insert ON users;
DROP FUNCTION farmer_changed();
DROP TRIGGER listings_catalogue_change ON listings;
DROP FUNCTION listing_changed();
DROP FUNCTION record_catalogue_change(INTEGER, BIGINT);
DROP TABLE catalogue_changes;
DROP SEQUENCE catalogue_change_seq;
