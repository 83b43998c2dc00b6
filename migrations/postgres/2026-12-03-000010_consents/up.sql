-- A farmer's consent that a community team may act for them, for some purposes; a helper acts only while the
-- farmer has a live one for the helper's team (`auth::helper_access`). Revoked consents stay, for the record.
CREATE TABLE consents (
    id              BIGSERIAL PRIMARY KEY,
    farmer_id       BIGINT    NOT NULL REFERENCES users (id),
    team_id         BIGINT    NOT NULL REFERENCES teams (id),
    -- The consent text the farmer agreed to.
    consent_version TEXT      NOT NULL,
    given_by        TEXT      NOT NULL CHECK (given_by IN ('farmer', 'in_person', 'enrolment')),
    -- The helper on whose phone it was given (in person, at enrolment).
    helper_id       BIGINT    REFERENCES users (id),
    given_at        TIMESTAMP NOT NULL,
    revoked_at      TIMESTAMP
);
CREATE INDEX consents_farmer_team_idx ON consents (farmer_id, team_id);

CREATE TABLE consent_purposes (
    consent_id BIGINT NOT NULL REFERENCES consents (id),
    purpose    TEXT   NOT NULL CHECK (purpose IN ('list_produce', 'answer_orders', 'reset_pin')),
    PRIMARY KEY (consent_id, purpose)
);

-- Farmers a helper enrolled agreed then, for every purpose, to the helper's team: so nothing that works breaks.
INSERT INTO consents (farmer_id, team_id, consent_version, given_by, helper_id, given_at)
    SELECT f.id, h.team_id, COALESCE(f.consent_version, '2025-07-helper-consent-v1'), 'enrolment', h.id,
        COALESCE(f.consent_at, f.created_at)
    FROM users f JOIN users h ON h.id = f.enrolled_by
    WHERE f.role = 'farmer' AND h.team_id IS NOT NULL;
INSERT INTO consent_purposes (consent_id, purpose)
    SELECT c.id, p.purpose
    FROM consents c
    CROSS JOIN (SELECT 'list_produce' AS purpose UNION ALL SELECT 'answer_orders' UNION ALL SELECT 'reset_pin') p;
