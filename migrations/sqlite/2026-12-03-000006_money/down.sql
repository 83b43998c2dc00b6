DROP TABLE cod_discrepancies;
DROP TABLE refunds;
ALTER TABLE shipments DROP COLUMN reason_code;
