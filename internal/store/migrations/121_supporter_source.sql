-- The source code a supporter came through (issue 23, "?source="): up to
-- 64 characters of a-z, 0-9, '-' and '_'; '' when none was given.
ALTER TABLE supporters ADD COLUMN source TEXT NOT NULL DEFAULT '';
CREATE INDEX supporters_source ON supporters (campaign, source);
