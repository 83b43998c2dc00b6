-- An order's status now follows its shipments to the end; listings may be sold by more units.
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check
    CHECK (status IN ('placed', 'confirmed', 'in_delivery', 'completed', 'partly_cancelled', 'cancelled'));
ALTER TABLE listings DROP CONSTRAINT listings_unit_check;
ALTER TABLE listings ADD CONSTRAINT listings_unit_check CHECK (unit IN ('kg', 'qua', 'bo', 'con', 'hop', 'chai',
    'lit', 'goi', 'nai', 'buong', 'mo', 'tui', 'bao', 'thung', 'khay', 'vi'));
CREATE INDEX orders_status_idx ON orders (status, id);
