-- A letter is stored once: the supporter's subject and body live on the
-- supporter row (one letter per supporter per campaign), and a message is a
-- small row that points at it, one per target. A copy's greeting and
-- signature are rendered when it is sent, from the letter and the target;
-- the target's details used for that are recorded on the message when it is
-- claimed, so that the copy shown is the copy sent.
ALTER TABLE supporters ADD COLUMN subject TEXT NOT NULL DEFAULT '';
ALTER TABLE supporters ADD COLUMN body TEXT NOT NULL DEFAULT '';

CREATE TABLE messages_new (
    id                  INTEGER PRIMARY KEY,
    supporter_id        INTEGER NOT NULL REFERENCES supporters (id),
    campaign            TEXT    NOT NULL,
    target_id           TEXT    NOT NULL,
    status              TEXT    NOT NULL,
    next_attempt_at     INTEGER NOT NULL,         -- unix ms; a queued message is due from then
    queued_at           INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    attempts            INTEGER NOT NULL DEFAULT 0,
    last_error          TEXT    NOT NULL DEFAULT '',
    provider_message_id TEXT    NOT NULL DEFAULT '',
    public_id           TEXT,                     -- opaque id given to the provider, set at the first claim
    lease_owner         TEXT,                     -- the sender holding a 'sending' message (sender_leases)
    sent_at             INTEGER,
    -- The target as the copy was rendered, recorded at each claim.
    target_email        TEXT,
    target_name         TEXT,
    target_title        TEXT,
    salutation          TEXT,
    -- The whole copy, for messages written before this migration (their
    -- greeting and signature were rendered when they were queued). NULL
    -- for every later message.
    rendered            TEXT,
    UNIQUE (supporter_id, target_id)
);

-- The letter of each supporter written before: the subject is the same on
-- every copy; the body was only kept rendered, per copy, in messages.rendered.
UPDATE supporters SET subject = COALESCE((SELECT subject FROM messages WHERE supporter_id = supporters.id LIMIT 1), '');

INSERT INTO messages_new (id, supporter_id, campaign, target_id, status, next_attempt_at, queued_at, updated_at,
        attempts, last_error, provider_message_id, public_id, lease_owner, sent_at,
        target_email, target_name, target_title, salutation, rendered)
    SELECT id, supporter_id, campaign, target_id, status, next_attempt_at, queued_at, updated_at,
        attempts, last_error, provider_message_id, public_id, NULL, sent_at,
        target_email, target_name, NULL, NULL, body
    FROM messages;

DROP TRIGGER message_counts_insert;
DROP TRIGGER message_counts_update;
DROP TRIGGER message_counts_delete;
DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;

-- The queue: only queued messages, by target, campaign and due time, so the sender
-- claims per target and never visits the messages of a target that may not
-- receive mail now (capped, paused, flagged), however many wait.
CREATE INDEX messages_queue ON messages (target_id, campaign, next_attempt_at) WHERE status = 'queued';
-- Messages being sent, by the sender holding them (few at any time).
CREATE INDEX messages_sending ON messages (lease_owner) WHERE status = 'sending';
-- Sends per target in time: the hourly cap's window after a restart.
CREATE INDEX messages_sent ON messages (target_id, sent_at) WHERE sent_at IS NOT NULL;
CREATE UNIQUE INDEX messages_public ON messages (public_id) WHERE public_id IS NOT NULL;
CREATE INDEX messages_provider ON messages (provider_message_id) WHERE provider_message_id <> '';
-- The console's send log (keyset pagination newest first, per filter).
CREATE INDEX messages_status_id ON messages (status, id);
CREATE INDEX messages_target_id ON messages (target_id, id);
CREATE INDEX messages_queued_at ON messages (queued_at);

-- Counts: inserts are counted by the letter's own transaction, one upsert
-- per campaign, target and status for a whole group of letters (a trigger
-- per row cost a fifth of each letter's insert); changes and deletes keep
-- their triggers.
CREATE TRIGGER message_counts_update AFTER UPDATE OF status, campaign, target_id ON messages
    WHEN OLD.status IS NOT NEW.status OR OLD.campaign IS NOT NEW.campaign OR OLD.target_id IS NOT NEW.target_id
BEGIN
    UPDATE message_counts SET n = n - 1
        WHERE campaign = OLD.campaign AND target_id = OLD.target_id AND status = OLD.status;
    INSERT INTO message_counts (campaign, target_id, status, n) VALUES (NEW.campaign, NEW.target_id, NEW.status, 1)
        ON CONFLICT (campaign, target_id, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER message_counts_delete AFTER DELETE ON messages BEGIN
    UPDATE message_counts SET n = n - 1
        WHERE campaign = OLD.campaign AND target_id = OLD.target_id AND status = OLD.status;
END;

-- Senders alive: a process renews its row while it runs; the messages held
-- by a sender whose row has expired go back to the queue at once.
CREATE TABLE sender_leases (
    owner       TEXT    PRIMARY KEY,
    alive_until INTEGER NOT NULL
);
