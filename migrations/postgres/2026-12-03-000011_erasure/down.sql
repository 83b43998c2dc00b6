DROP TABLE privacy_codes;
ALTER TABLE users DROP COLUMN erased_at;
