-- What changed in the catalogue, for the search index every instance keeps in memory: one row per listing
-- (kind 1) or farmer (kind 2: name, commune, role) with the number of its last change, written by triggers
-- in the transaction of the change, so no write path can forget it. SQLite has one writer: numbers commit
-- in order (the PostgreSQL migration explains why instances also re-read the last seconds there).
CREATE TABLE catalogue_changes (
    kind       INTEGER   NOT NULL CHECK (kind IN (1, 2)),
    subject_id BIGINT    NOT NULL,
    seq        BIGINT    NOT NULL,
    -- When the change was made.
    changed_at TIMESTAMP NOT NULL,
    PRIMARY KEY (kind, subject_id)
);
CREATE INDEX catalogue_changes_seq_idx ON catalogue_changes (seq);
CREATE INDEX catalogue_changes_changed_at_idx ON catalogue_changes (changed_at);

CREATE TRIGGER listings_catalogue_insert AFTER INSERT ON listings BEGIN
    INSERT OR REPLACE INTO catalogue_changes (kind, subject_id, seq, changed_at)
    VALUES (1, NEW.id, (SELECT coalesce(max(seq), 0) + 1 FROM catalogue_changes), strftime('%Y-%m-%d %H:%M:%f', 'now'));
END;
CREATE TRIGGER listings_catalogue_update AFTER UPDATE ON listings BEGIN
    INSERT OR REPLACE INTO catalogue_changes (kind, subject_id, seq, changed_at)
    VALUES (1, NEW.id, (SELECT coalesce(max(seq), 0) + 1 FROM catalogue_changes), strftime('%Y-%m-%d %H:%M:%f', 'now'));
END;
CREATE TRIGGER listings_catalogue_delete AFTER DELETE ON listings BEGIN
    INSERT OR REPLACE INTO catalogue_changes (kind, subject_id, seq, changed_at)
    VALUES (1, OLD.id, (SELECT coalesce(max(seq), 0) + 1 FROM catalogue_changes), strftime('%Y-%m-%d %H:%M:%f', 'now'));
END;
CREATE TRIGGER users_catalogue_insert AFTER INSERT ON users WHEN NEW.role = 'farmer' BEGIN
    INSERT OR REPLACE INTO catalogue_changes (kind, subject_id, seq, changed_at)
    VALUES (2, NEW.id, (SELECT coalesce(max(seq), 0) + 1 FROM catalogue_changes), strftime('%Y-%m-%d %H:%M:%f', 'now'));
END;
CREATE TRIGGER users_catalogue_update AFTER UPDATE OF name, ward_code, role ON users
    WHEN OLD.role = 'farmer' OR NEW.role = 'farmer' BEGIN
    INSERT OR REPLACE INTO catalogue_changes (kind, subject_id, seq, changed_at)
    VALUES (2, NEW.id, (SELECT coalesce(max(seq), 0) + 1 FROM catalogue_changes), strftime('%Y-%m-%d %H:%M:%f', 'now'));
END;
