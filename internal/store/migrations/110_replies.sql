-- What comes back (issue 22): replies from decision-makers through the
-- relay (SendGrid Inbound Parse), and supporters' answers to the follow-up.
--
-- reply_addresses: the opaque token of each relayed email's Reply-To
-- (<token>@OUTCRY_REPLY_DOMAIN), one per message or digest. The token is
-- random (crypto/rand), never derived from the supporter.
CREATE TABLE reply_addresses (
    token      TEXT    PRIMARY KEY,
    campaign   TEXT    NOT NULL,
    target_id  TEXT    NOT NULL,
    message_id INTEGER UNIQUE REFERENCES messages (id),
    digest_id  INTEGER UNIQUE REFERENCES digests (id),
    created_at INTEGER NOT NULL
);
-- replies: every inbound email, matched or not. kind is reply,
-- acknowledgement (an automatic answer) or unmatched (unknown or forged
-- token); state is what was done with it (internal/reply: State).
CREATE TABLE replies (
    id           INTEGER PRIMARY KEY,
    campaign     TEXT    NOT NULL DEFAULT '',
    target_id    TEXT    NOT NULL DEFAULT '',
    message_id   INTEGER,
    digest_id    INTEGER,
    supporter_id INTEGER,
    direction    TEXT    NOT NULL DEFAULT 'from_target',
    kind         TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    from_email   TEXT    NOT NULL DEFAULT '',
    from_name    TEXT    NOT NULL DEFAULT '',
    subject      TEXT    NOT NULL DEFAULT '',
    body         TEXT    NOT NULL DEFAULT '',
    spam_score   REAL,
    attachments  TEXT    NOT NULL DEFAULT '[]',
    received_at  INTEGER NOT NULL,
    decided_at   INTEGER
);
CREATE INDEX replies_campaign ON replies (campaign, id);
CREATE INDEX replies_supporter ON replies (supporter_id) WHERE supporter_id IS NOT NULL;
CREATE INDEX replies_digest ON replies (digest_id) WHERE digest_id IS NOT NULL;
-- followups: the one follow-up email per supporter (its mail is queued in
-- the same transaction, dedupe key followup:<supporter id>).
CREATE TABLE followups (
    supporter_id INTEGER PRIMARY KEY REFERENCES supporters (id),
    campaign     TEXT    NOT NULL,
    queued_at    INTEGER NOT NULL
);
-- followup_answers: "did you get a reply from …?" per supporter and target.
CREATE TABLE followup_answers (
    supporter_id INTEGER NOT NULL REFERENCES supporters (id),
    target_id    TEXT    NOT NULL,
    campaign     TEXT    NOT NULL,
    answer       TEXT    NOT NULL,
    answered_at  INTEGER NOT NULL,
    PRIMARY KEY (supporter_id, target_id)
);
CREATE INDEX followup_answers_campaign ON followup_answers (campaign, target_id);
