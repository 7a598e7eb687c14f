-- Supporters: one row per address per campaign. The unique index makes
-- simultaneous submits from one address produce exactly one supporter.
CREATE TABLE supporters (
    id               INTEGER PRIMARY KEY,
    campaign         TEXT    NOT NULL,
    email            TEXT    NOT NULL,          -- normalized: trimmed, lower-case
    first_name       TEXT    NOT NULL,
    last_name        TEXT    NOT NULL,
    postcode         TEXT    NOT NULL DEFAULT '',
    consent_updates  INTEGER NOT NULL DEFAULT 0,
    consent_version  TEXT    NOT NULL DEFAULT '',
    privacy_version  TEXT    NOT NULL DEFAULT '',
    status           TEXT    NOT NULL DEFAULT 'confirmed',
    created_at       INTEGER NOT NULL,          -- unix milliseconds
    erased_at        INTEGER
);
CREATE UNIQUE INDEX supporters_campaign_email ON supporters (campaign, email);
CREATE INDEX supporters_created ON supporters (campaign, created_at);

-- Messages: the send log and the outbox. One row per supporter x target,
-- from queued to its final state.
CREATE TABLE messages (
    id                  INTEGER PRIMARY KEY,
    public_id           TEXT    NOT NULL UNIQUE,  -- opaque id given to the provider
    supporter_id        INTEGER NOT NULL REFERENCES supporters (id),
    campaign            TEXT    NOT NULL,
    target_id           TEXT    NOT NULL,
    target_email        TEXT    NOT NULL,
    target_name         TEXT    NOT NULL,
    subject             TEXT    NOT NULL,
    body                TEXT    NOT NULL,
    status              TEXT    NOT NULL,         -- queued, sending, sent, delivered, deferred, bounced, dropped, spamreport, failed, cancelled, unconfirmed
    attempts            INTEGER NOT NULL DEFAULT 0,
    last_error          TEXT    NOT NULL DEFAULT '',
    provider_message_id TEXT    NOT NULL DEFAULT '',
    next_attempt_at     INTEGER NOT NULL,         -- unix ms; a queued message is due from then
    lease_until         INTEGER NOT NULL DEFAULT 0, -- unix ms; a 'sending' message is reclaimed after this
    queued_at           INTEGER NOT NULL,
    sent_at             INTEGER,
    updated_at          INTEGER NOT NULL,
    UNIQUE (supporter_id, target_id)
);
CREATE INDEX messages_due ON messages (status, next_attempt_at);
CREATE INDEX messages_target ON messages (target_id, status);
CREATE INDEX messages_provider ON messages (provider_message_id) WHERE provider_message_id <> '';

-- Delivery events reported by the provider, deduplicated by its event id.
CREATE TABLE message_events (
    id          INTEGER PRIMARY KEY,
    message_id  INTEGER REFERENCES messages (id),
    event_id    TEXT    NOT NULL UNIQUE,
    event       TEXT    NOT NULL,
    type        TEXT    NOT NULL DEFAULT '',
    reason      TEXT    NOT NULL DEFAULT '',
    occurred_at INTEGER NOT NULL,
    received_at INTEGER NOT NULL
);
CREATE INDEX message_events_message ON message_events (message_id);

-- Per-target state that outlives edits of targets.yaml.
CREATE TABLE target_state (
    target_id       TEXT    PRIMARY KEY,
    paused          INTEGER NOT NULL DEFAULT 0,
    needs_attention INTEGER NOT NULL DEFAULT 0,
    attention_note  TEXT    NOT NULL DEFAULT '',
    updated_at      INTEGER NOT NULL
);

-- Running counts, updated in the transaction that changes them.
CREATE TABLE counters (
    campaign   TEXT PRIMARY KEY,
    supporters INTEGER NOT NULL DEFAULT 0
);

-- Small key/value settings (campaign pause, edited letter defaults…).
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
