-- Issue 9: every spending lowers `remaining` on the awards it draws on. With room left in each
-- page, PostgreSQL writes the new row version beside the old one (a HOT update) and leaves both
-- indexes alone; on full pages every update also inserts into each index.
ALTER TABLE points_awards SET (fillfactor = 85);
