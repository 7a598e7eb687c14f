-- Message counts by campaign, target and status, kept exact by triggers on
-- messages, so the console's totals and /metrics read a few rows instead of
-- scanning the send log. Rows whose count fell to zero stay (n = 0).
CREATE TABLE message_counts (
    campaign  TEXT    NOT NULL,
    target_id TEXT    NOT NULL,
    status    TEXT    NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (campaign, target_id, status)
) WITHOUT ROWID;

INSERT INTO message_counts (campaign, target_id, status, n)
    SELECT campaign, target_id, status, COUNT(*) FROM messages GROUP BY campaign, target_id, status;

CREATE TRIGGER message_counts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO message_counts (campaign, target_id, status, n) VALUES (NEW.campaign, NEW.target_id, NEW.status, 1)
        ON CONFLICT (campaign, target_id, status) DO UPDATE SET n = n + 1;
END;

-- campaign and target_id never change today; the trigger follows them
-- anyway, so the counts cannot drift if they ever do.
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
