-- The claims take the oldest ready rows, ORDER BY available_at, id. With an index on available_at
-- alone, PostgreSQL had to read and sort every claimable row for each claim (a fan-out stage makes
-- all its steps ready in the same millisecond), so a fan-out of n steps cost O(n²) rows read.
-- With id in the index the claim reads the rows in order and stops at its LIMIT.
DROP INDEX steps_claimable;
CREATE INDEX steps_claimable ON steps (available_at, id) WHERE status = 'pending' AND available_at IS NOT NULL;
DROP INDEX flow_calls_claimable;
CREATE INDEX flow_calls_claimable ON flow_calls (available_at, id) WHERE status = 'queued';
