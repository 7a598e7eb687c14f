-- Issue 13: a 429 whose X-RateLimit-Reset was given in milliseconds stored a
-- due time in the year 58888, and the message stayed stuck across restarts.
-- The sender now stores none more than an hour ahead; a queued message due
-- more than a day from now is made due at once.
UPDATE messages SET next_attempt_at = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
WHERE status = 'queued'
  AND next_attempt_at > CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) + 86400000;
