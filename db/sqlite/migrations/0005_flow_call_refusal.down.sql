ALTER TABLE flow_calls DROP COLUMN refusal;
