-- The twin of the PostgreSQL migration: the claim indexes name id after available_at. SQLite
-- already kept each index entry's rowid (id) in order, so here this changes the definition, not
-- the plan; the two schemas stay alike.
DROP INDEX steps_claimable;
CREATE INDEX steps_claimable ON steps (available_at, id) WHERE status = 'pending' AND available_at IS NOT NULL;
DROP INDEX flow_calls_claimable;
CREATE INDEX flow_calls_claimable ON flow_calls (available_at, id) WHERE status = 'queued';
