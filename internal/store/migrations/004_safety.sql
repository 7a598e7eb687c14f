-- Double opt-in: when the last confirmation email went out (resends are
-- throttled) and when the supporter confirmed.
ALTER TABLE supporters ADD COLUMN confirm_sent_at INTEGER;
ALTER TABLE supporters ADD COLUMN confirmed_at INTEGER;
CREATE INDEX supporters_status ON supporters (status, created_at);
-- Retention: final messages whose text is older than the retention period.
CREATE INDEX messages_updated ON messages (status, updated_at);
-- Erased supporters (few): checked on every letter, so a partial index.
CREATE INDEX supporters_erased ON supporters (campaign) WHERE erased_at IS NOT NULL;
