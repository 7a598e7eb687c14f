-- A durable queue of transactional email to supporters (internal/outbox,
-- mail.go): reply forwards, follow-ups, updates. One row per email from the
-- moment it is queued to its final state. dedupe_key, when set, makes "send
-- this once only" a schema guarantee across restarts and instances.
CREATE TABLE mails (
    id           INTEGER PRIMARY KEY,
    campaign     TEXT    NOT NULL,
    supporter_id INTEGER,
    kind         TEXT    NOT NULL,
    to_email     TEXT    NOT NULL,
    to_name      TEXT    NOT NULL DEFAULT '',
    from_name    TEXT    NOT NULL DEFAULT '',
    reply_to     TEXT    NOT NULL DEFAULT '',
    subject      TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    headers      TEXT    NOT NULL DEFAULT '{}',
    dedupe_key   TEXT    UNIQUE,
    status       TEXT    NOT NULL DEFAULT 'queued',
    attempts     INTEGER NOT NULL DEFAULT 0,
    due_at       INTEGER NOT NULL,
    sent_at      INTEGER,
    provider_id  TEXT,
    error        TEXT,
    created_at   INTEGER NOT NULL
);
-- The drain's claim: mails queued (or left sending by a stopped sender) and due.
CREATE INDEX mails_due ON mails (due_at) WHERE status IN ('queued', 'sending');
CREATE INDEX mails_supporter ON mails (supporter_id) WHERE supporter_id IS NOT NULL;
