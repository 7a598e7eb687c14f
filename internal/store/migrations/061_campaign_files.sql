-- The versions of each campaign's file (campaign.yaml) that have been in
-- force, by hash (issue 14). An instance that starts with a file that was
-- in force once, and is not now, holds an old copy: it leaves the campaign
-- as it is instead of putting the old text back for every instance.
CREATE TABLE campaign_files (
    slug       TEXT    NOT NULL,
    hash       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL,
    PRIMARY KEY (slug, hash)
);
