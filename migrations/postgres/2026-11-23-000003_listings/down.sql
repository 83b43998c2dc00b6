DROP TABLE listing_photos;
DROP TABLE listings;
DROP TABLE media;
DROP EXTENSION IF EXISTS pg_trgm;
