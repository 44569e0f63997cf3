DROP TABLE attempts;
ALTER TABLE steps DROP COLUMN retry_backoff;
ALTER TABLE steps DROP COLUMN retry_delay_ms;
ALTER TABLE flow_calls DROP COLUMN lost_attempts;
ALTER TABLE steps DROP COLUMN lost_attempts;
