DROP INDEX orders_status_idx;
ALTER TABLE listings DROP CONSTRAINT listings_unit_check;
ALTER TABLE listings ADD CONSTRAINT listings_unit_check
    CHECK (unit IN ('kg', 'qua', 'bo', 'con', 'hop', 'chai', 'lit', 'goi'));
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN ('placed', 'cancelled'));
