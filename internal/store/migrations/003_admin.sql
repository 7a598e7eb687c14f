-- Indexes for the organizer console's send log: newest first by id, with
-- each filter able to walk an index in id order (keyset pagination).
CREATE INDEX messages_status_id ON messages (status, id);
CREATE INDEX messages_target_id ON messages (target_id, id);
CREATE INDEX messages_queued_at ON messages (queued_at);
