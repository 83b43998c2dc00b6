ALTER TABLE users DROP COLUMN auto_accept;
DROP TABLE outbox;
DROP TABLE idempotency_keys;
DROP TABLE order_lines;
DROP TABLE shipments;
DROP TABLE orders;
