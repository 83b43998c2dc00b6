-- What changed in the catalogue, for the search index every instance keeps in memory: one row per listing
-- (kind 1) or farmer (kind 2: name, commune, role) with the number of its last change, written by triggers
-- in the transaction of the change, so no write path can forget it. Instances read the rows whose number is
-- above the last they applied, and those whose transaction started in the last seconds: a sequence number is
-- taken before its transaction commits, so a lower one can become visible after a higher one.
CREATE SEQUENCE catalogue_change_seq;
CREATE TABLE catalogue_changes (
    kind       INTEGER   NOT NULL CHECK (kind IN (1, 2)),
    subject_id BIGINT    NOT NULL,
    seq        BIGINT    NOT NULL,
    -- When the changing transaction started.
    changed_at TIMESTAMP NOT NULL,
    PRIMARY KEY (kind, subject_id)
);
CREATE INDEX catalogue_changes_seq_idx ON catalogue_changes (seq);
CREATE INDEX catalogue_changes_changed_at_idx ON catalogue_changes (changed_at);

CREATE FUNCTION record_catalogue_change(change_kind INTEGER, subject BIGINT) RETURNS void AS $$
    INSERT INTO catalogue_changes (kind, subject_id, seq, changed_at)
    VALUES (change_kind, subject, nextval('catalogue_change_seq'), LOCALTIMESTAMP)
    ON CONFLICT (kind, subject_id) DO UPDATE SET seq = EXCLUDED.seq, changed_at = EXCLUDED.changed_at
$$ LANGUAGE sql;

CREATE FUNCTION listing_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM record_catalogue_change(1, OLD.id);
    ELSE
        PERFORM record_catalogue_change(1, NEW.id);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER listings_catalogue_change AFTER INSERT OR UPDATE OR DELETE ON listings
    FOR EACH ROW EXECUTE FUNCTION listing_changed();

CREATE FUNCTION farmer_changed() RETURNS trigger AS $$
BEGIN
    PERFORM record_catalogue_change(2, NEW.id);
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER users_catalogue_insert AFTER INSERT ON users
    FOR EACH ROW WHEN (NEW.role = 'farmer') EXECUTE FUNCTION farmer_changed();
CREATE TRIGGER users_catalogue_update AFTER UPDATE OF name, ward_code, role ON users
    FOR EACH ROW WHEN (OLD.role = 'farmer' OR NEW.role = 'farmer') EXECUTE FUNCTION farmer_changed();
