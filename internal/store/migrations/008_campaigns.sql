-- Campaigns are data: several run side by side, each at /c/{slug}. The
-- content (story, image, letter, target choice…) is one JSON document owned
-- by internal/campaign; what the queue and the pages filter on is in
-- columns. source says where the content in force comes from: 'file' (the
-- campaign file, read again at each start) or 'console' (edited in the
-- console or the API; the file is no longer read for it).
CREATE TABLE campaigns (
    slug       TEXT    PRIMARY KEY,
    doc        TEXT    NOT NULL,
    status     TEXT    NOT NULL DEFAULT 'open',   -- open, paused, closed
    source     TEXT    NOT NULL DEFAULT 'console', -- file, console
    starts_at  INTEGER,                          -- unix ms; NULL: open at once
    ends_at    INTEGER,                          -- unix ms; NULL: no end
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
