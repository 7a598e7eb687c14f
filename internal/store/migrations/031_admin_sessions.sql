-- Organizer console sessions (issue 16): a session cookie is valid only
-- while its row exists, so logging out ends it for every copy of the
-- cookie. The id is stored as its SHA-256, never as the cookie's secret.
CREATE TABLE admin_sessions (
    id_hash    TEXT    PRIMARY KEY,
    created_at INTEGER NOT NULL,   -- unix ms
    expires_at INTEGER NOT NULL    -- unix ms
) WITHOUT ROWID;
