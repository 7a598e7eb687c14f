-- Deduplication key of a supporter's address (issue 16): the address with
-- its +tag dropped, and for Gmail its dots too, computed by
-- letter.EmailKey. Uniqueness moves from the address to the key, so that
-- variants of one address make one supporter, while mail still goes to the
-- address as typed. Rows written before this migration are keyed by their
-- address (a key computed here could collide between existing rows).
ALTER TABLE supporters ADD COLUMN email_key TEXT NOT NULL DEFAULT '';
UPDATE supporters SET email_key = email;
DROP INDEX supporters_campaign_email;
CREATE UNIQUE INDEX supporters_campaign_email_key ON supporters (campaign, email_key);
CREATE INDEX supporters_campaign_email ON supporters (campaign, email);
