-- Digests (issue 12): one email to a target carrying many letters of one
-- campaign. A digest is sent through the same sender, rate limiter, hourly
-- cap and webhook as a single letter and counts as one email against the
-- cap. Its letters point at it (messages.digest_id) and leave the queue
-- when it is formed: a letter is never in two digests, nor sent both alone
-- and in a digest.
--
-- status: queued (formed, waiting for a slot or a retry, e.g. after the
-- sender that held it died), sending (leased by lease_owner), sent, failed.
-- Delivery events then move its letters, not the digest row.
CREATE TABLE digests (
    id                  INTEGER PRIMARY KEY,
    campaign            TEXT    NOT NULL,
    target_id           TEXT    NOT NULL,
    public_id           TEXT    NOT NULL UNIQUE,  -- opaque id given to the provider
    status              TEXT    NOT NULL,
    lease_owner         TEXT,
    letters             INTEGER NOT NULL,         -- how many letters it carries
    attempts            INTEGER NOT NULL DEFAULT 0,
    last_error          TEXT    NOT NULL DEFAULT '',
    provider_message_id TEXT    NOT NULL DEFAULT '',
    next_attempt_at     INTEGER NOT NULL,
    created_at          INTEGER NOT NULL,
    sent_at             INTEGER,
    updated_at          INTEGER NOT NULL
);
-- Digests waiting to be (re)sent, per target: a few rows at most.
CREATE INDEX digests_queue ON digests (target_id, campaign, next_attempt_at) WHERE status = 'queued';
CREATE INDEX digests_sending ON digests (lease_owner) WHERE status = 'sending';
CREATE INDEX digests_sent ON digests (sent_at) WHERE sent_at IS NOT NULL;
CREATE INDEX digests_provider ON digests (provider_message_id) WHERE provider_message_id <> '';
CREATE INDEX digests_campaign ON digests (campaign, id);

ALTER TABLE messages ADD COLUMN digest_id INTEGER REFERENCES digests (id);
CREATE INDEX messages_digest ON messages (digest_id) WHERE digest_id IS NOT NULL;

-- A delivery event on a digest is recorded once, with the digest it matched.
ALTER TABLE message_events ADD COLUMN digest_id INTEGER REFERENCES digests (id);
