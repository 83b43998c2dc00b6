DROP TRIGGER users_catalogue_update;
DROP TRIGGER users_catalogue_insert;
DROP TRIGGER listings_catalogue_delete;
DROP TRIGGER listings_catalogue_update;
DROP TRIGGER listings_catalogue_insert;
DROP TABLE catalogue_changes;
