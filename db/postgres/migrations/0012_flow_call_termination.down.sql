ALTER TABLE flow_calls DROP COLUMN termination_reason;
