-- Back to the eight units of the first release (fails while a listing uses another).
ALTER TABLE listings DROP CONSTRAINT listings_unit_check;
ALTER TABLE listings ADD CONSTRAINT listings_unit_check CHECK (unit IN ('kg', 'qua', 'bo', 'con', 'hop', 'chai', 'lit', 'goi'));
