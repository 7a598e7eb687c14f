-- Updates to supporters who asked for them (issue 26): the organizer's
-- news about a campaign, emailed to its supporters who gave
-- consent_updates, are confirmed, and are neither erased nor unsubscribed
-- (internal/update).
--
-- updates: one row per update. text_hash (SHA-256 of its subject and
-- body) makes a second send of the same text to the same campaign (a
-- double click, a retried request) find the first instead of mailing
-- anyone twice. recipients is how many it was to reach when it was sent;
-- last_supporter the last supporter id it was written for (who writes
-- later does not get it); queued_through how far its mails have been
-- queued (one short transaction per batch, so that a large update never
-- holds the writer from the letters), queued how many were.
CREATE TABLE updates (
    id             INTEGER PRIMARY KEY,
    campaign       TEXT    NOT NULL,
    subject        TEXT    NOT NULL,
    body           TEXT    NOT NULL,
    text_hash      TEXT    NOT NULL,
    sent_by        TEXT    NOT NULL,
    recipients     INTEGER NOT NULL,
    last_supporter INTEGER NOT NULL,
    queued_through INTEGER NOT NULL DEFAULT 0,
    queued         INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    UNIQUE (campaign, text_hash)
);
CREATE INDEX updates_campaign ON updates (campaign, id);
CREATE INDEX updates_unfinished ON updates (id) WHERE queued_through < last_supporter;
-- The update a supporter mail carries (NULL for the other kinds). No
-- foreign key: outcry db copy copies mails before updates.
ALTER TABLE mails ADD COLUMN update_id INTEGER;
CREATE INDEX mails_update ON mails (update_id, status) WHERE update_id IS NOT NULL;
-- When a supporter unsubscribed from updates (the one-click link of an
-- update, RFC 8058); NULL while they have not.
ALTER TABLE supporters ADD COLUMN unsubscribed_at INTEGER;
-- An update's audience, in supporter order.
CREATE INDEX supporters_updates ON supporters (campaign, id)
    WHERE consent_updates <> 0 AND erased_at IS NULL AND unsubscribed_at IS NULL;
