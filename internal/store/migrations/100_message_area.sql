-- Each message records the area that area matching addressed it in and the
-- version of the areas file (OUTCRY_AREAS) that decided it (issue 21): a
-- decision can be traced to the data that made it. '' for letters of a
-- campaign that writes to all its targets.
ALTER TABLE messages ADD COLUMN area TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN areas_version TEXT NOT NULL DEFAULT '';
