DROP TABLE consent_purposes;
DROP TABLE consents;
