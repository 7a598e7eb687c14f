-- The retention purges (purge.go) find their rows by index, not by a scan
-- of the table: each index holds only the rows whose text is still kept,
-- keyed by the time the purge compares with its cutoff. A purge once
-- scanned the supporters table every 10 minutes (3 s of CPU with 1.2
-- million letters in, and the WAL held from starting over meanwhile).
-- (messages.rendered, no longer written since migration 007, has no such
-- index: one was tried and dropped; purge.go says why.)
CREATE INDEX supporters_text_kept ON supporters (created_at) WHERE body <> '' OR subject <> '';
CREATE INDEX mails_text_kept ON mails (created_at) WHERE body <> '';
CREATE INDEX replies_text_kept ON replies (received_at) WHERE body <> '' OR subject <> '';
