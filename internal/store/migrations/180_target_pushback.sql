-- Back-off when a receiving server pushes back (issue 28 §4, package
-- pushback): one row per target ever pushed back (a deferred event or a
-- 4xx soft bounce). level is how many times its hourly allowance is halved
-- now; last_pushback (Unix ms, as received), pushbacks (since the last
-- step) and reason are the push-backs; stepped_at and down_at when the
-- level last changed and last went down; floor_since when it reached the
-- allowance of 1 (0: not at it) and flagged whether that stay was flagged
-- for the organizer. No row: the full cap.
CREATE TABLE target_pushback (
    target_id     TEXT    PRIMARY KEY,
    level         INTEGER NOT NULL DEFAULT 0,
    last_pushback INTEGER NOT NULL DEFAULT 0,
    pushbacks     INTEGER NOT NULL DEFAULT 0,
    reason        TEXT    NOT NULL DEFAULT '',
    stepped_at    INTEGER NOT NULL DEFAULT 0,
    down_at       INTEGER NOT NULL DEFAULT 0,
    floor_since   INTEGER NOT NULL DEFAULT 0,
    flagged       INTEGER NOT NULL DEFAULT 0,
    updated_at    INTEGER NOT NULL
);
-- Each step (down, up, flag), for the target's page and /metrics: the
-- levels before and after, and the allowance after at the cap then in force.
CREATE TABLE target_pushback_steps (
    id         INTEGER PRIMARY KEY,
    target_id  TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    step       TEXT    NOT NULL,
    from_level INTEGER NOT NULL,
    to_level   INTEGER NOT NULL,
    allowance  INTEGER NOT NULL,
    reason     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX target_pushback_steps_target ON target_pushback_steps (target_id, id);
