-- Targets removed from the targets file in the console. Their ids are never
-- given to another target: the send log and the per-target state refer to
-- a target by id.
CREATE TABLE removed_targets (
    target_id  TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL DEFAULT '',
    removed_at INTEGER NOT NULL
);
