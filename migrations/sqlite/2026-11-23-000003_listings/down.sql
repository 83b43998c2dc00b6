DROP TABLE listings_fts;
DROP TABLE listing_photos;
DROP TABLE listings;
DROP TABLE media;
