-- The list of decision-makers (targets.yaml), kept in the database so that
-- every instance sharing it has the same list. Each save is a new version;
-- the latest is in force. A save names the version it was based on and
-- makes the next one: the primary key lets one of two concurrent saves
-- through. The hash (SHA-256 of the text) tells a machine whose file holds
-- an old version from one whose file was edited by hand.
CREATE TABLE target_lists (
    version  BIGINT PRIMARY KEY,
    yaml     TEXT   NOT NULL,
    hash     TEXT   NOT NULL,
    origin   TEXT   NOT NULL,
    saved_at BIGINT NOT NULL
);
