-- Outgoing webhooks (issue 23). An endpoint subscribes to event types
-- (stored as ",a,b," so that one LIKE tells whether it wants one); a
-- delivery is one event for one endpoint, written in the transaction of
-- the change it reports and sent by the elected sender; each attempt is
-- kept for the console.
CREATE TABLE webhook_endpoints (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    url            TEXT    NOT NULL,
    events         TEXT    NOT NULL,
    campaign       TEXT    NOT NULL DEFAULT '',
    personal_data  INTEGER NOT NULL DEFAULT 0,
    secret         TEXT    NOT NULL,
    description    TEXT    NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    failing_since  INTEGER,
    disabled_at    INTEGER,
    disabled_why   TEXT    NOT NULL DEFAULT ''
);

CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id     INTEGER NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    msg_id          TEXT    NOT NULL,
    type            TEXT    NOT NULL,
    supporter_id    INTEGER,
    personal        INTEGER NOT NULL DEFAULT 0,
    body            TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_code       INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
CREATE INDEX webhook_deliveries_supporter ON webhook_deliveries (supporter_id) WHERE supporter_id IS NOT NULL;

CREATE TABLE webhook_attempts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    endpoint_id INTEGER NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    at          INTEGER NOT NULL,
    code        INTEGER NOT NULL,
    error       TEXT    NOT NULL DEFAULT '',
    duration_ms INTEGER NOT NULL
);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, id);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id);
