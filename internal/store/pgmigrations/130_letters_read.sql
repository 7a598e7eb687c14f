-- Letters that get read (issue 24).
--
-- similarity: how much of the letter is the campaign's text, from 0 to 1
-- (internal/similar), measured when it was written; NULL for letters
-- written before this migration.
ALTER TABLE supporters ADD COLUMN similarity DOUBLE PRECISION;

-- The private reading page of each target of each campaign
-- (/c/{slug}/for/{token}): the token is signed and names a generation;
-- revoking a link bumps nothing and sets revoked, reissuing bumps the
-- generation (so every earlier link stops working) and clears revoked. A
-- pair without a row has generation 1, not revoked.
CREATE TABLE reading_links (
    campaign   TEXT    NOT NULL,
    target_id  TEXT    NOT NULL,
    generation BIGINT  NOT NULL,
    revoked    BIGINT  NOT NULL DEFAULT 0,
    updated_at BIGINT  NOT NULL,
    PRIMARY KEY (campaign, target_id)
);
