ALTER TABLE steps ADD COLUMN exit_token TEXT;
