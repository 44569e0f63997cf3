-- Issue 17. A lost attempt (its lease expired: the supervisor or its host died) is counted apart
-- from the script's own failures: it re-queues the work without spending maxRetries, up to
-- MAXQ_MAX_LOST_ATTEMPTS lost attempts of one step or flow call.
ALTER TABLE steps ADD COLUMN lost_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE flow_calls ADD COLUMN lost_attempts INTEGER NOT NULL DEFAULT 0;
-- The step's retry delay, resolved when it was scheduled (its own retryDelaySeconds, or
-- MAXQ_RETRY_DELAY_SECONDS / MAXQ_RETRY_BACKOFF): 'fixed' waits retry_delay_ms before each retry,
-- 'exponential' doubles it per retry (with jitter, capped). 0 retries at once, as before.
ALTER TABLE steps ADD COLUMN retry_delay_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE steps ADD COLUMN retry_backoff TEXT NOT NULL DEFAULT 'fixed';

-- Every finished attempt of a step (step_id set) or a flow call (flow_call_id set), written in the
-- transaction that records its end: the steps and flow_calls rows keep only the last attempt's
-- output. The tails are bounded and masked like the output they come from.
CREATE TABLE attempts (
  id INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  step_id TEXT,
  flow_call_id INTEGER,
  attempt INTEGER NOT NULL,
  worker_id TEXT,
  started_at INTEGER,
  ended_at INTEGER NOT NULL,
  exit_code INTEGER,
  signal TEXT,
  -- exit (the script ended by itself: exit_code says how), signal, timeout, lease_expired
  termination_reason TEXT NOT NULL,
  stdout_tail TEXT,
  stderr_tail TEXT
);
-- A step's attempts are read by (run, step), a flow call's by (run, call); both in attempt order.
CREATE INDEX attempts_run_step ON attempts (run_id, step_id, attempt);
CREATE INDEX attempts_run_flow_call ON attempts (run_id, flow_call_id, attempt);
