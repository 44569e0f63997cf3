ALTER TABLE steps DROP COLUMN exit_token;
