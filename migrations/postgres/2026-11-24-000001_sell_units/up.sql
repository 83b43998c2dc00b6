-- Listings may also be sold per nải, buồng, mớ, túi, bao, thùng, khay and vỉ.
ALTER TABLE listings DROP CONSTRAINT listings_unit_check;
ALTER TABLE listings ADD CONSTRAINT listings_unit_check
    CHECK (unit IN ('kg', 'qua', 'nai', 'buong', 'bo', 'mo', 'con', 'hop', 'chai', 'lit', 'tui', 'bao', 'thung', 'khay', 'vi', 'goi'));
