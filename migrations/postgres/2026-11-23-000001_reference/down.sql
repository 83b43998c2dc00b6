DROP TABLE seed_runs;
DROP TABLE categories;
DROP TABLE wards;
DROP TABLE provinces;
