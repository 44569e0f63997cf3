DROP INDEX steps_claimable;
CREATE INDEX steps_claimable ON steps (available_at) WHERE status = 'pending' AND available_at IS NOT NULL;
DROP INDEX flow_calls_claimable;
CREATE INDEX flow_calls_claimable ON flow_calls (available_at) WHERE status = 'queued';
