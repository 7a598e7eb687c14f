-- A campaign's own image, uploaded in the console or through
-- PUT /admin/api/campaigns/{slug}/image (issue 26): already decoded,
-- re-encoded and stripped of metadata by internal/campaign; kept in the
-- database so that every instance serves it. etag names the bytes.
CREATE TABLE campaign_images (
    campaign     TEXT    PRIMARY KEY,
    content_type TEXT    NOT NULL,
    data         BYTEA   NOT NULL,
    etag         TEXT    NOT NULL,
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    updated_at   BIGINT  NOT NULL
);
