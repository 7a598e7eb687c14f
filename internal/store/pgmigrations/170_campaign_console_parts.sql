-- The parts of a campaign read from the campaign file that were edited in
-- the console (issue 26): a comma-separated list of story, letter, image,
-- organizer, settings. Those stay the console's; the file still changes
-- the others at each start. Empty: every part follows the source column.
ALTER TABLE campaigns ADD COLUMN console_parts TEXT NOT NULL DEFAULT '';
