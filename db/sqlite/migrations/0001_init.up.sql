-- MaxQ schema, SQLite dialect. db/postgres/migrations/0001_init.up.sql mirrors it table for
-- table; JSON columns are TEXT here and JSONB there. Timestamps are epoch milliseconds.

CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  flow_name TEXT NOT NULL,
  status TEXT NOT NULL,
  input TEXT,
  metadata TEXT,
  name TEXT,
  description TEXT,
  output TEXT,
  error TEXT,
  termination_reason TEXT,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  completed_at INTEGER,
  updated_at INTEGER NOT NULL
);
CREATE INDEX runs_created_at ON runs (created_at);
CREATE INDEX runs_flow_name_created_at ON runs (flow_name, created_at);
CREATE INDEX runs_status_created_at ON runs (status, created_at);

-- Stages run in `seq` order; a stage starts when every earlier one is settled.
CREATE TABLE stages (
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  name TEXT NOT NULL,
  final INTEGER NOT NULL,
  status TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  completed_at INTEGER,
  PRIMARY KEY (run_id, seq),
  UNIQUE (run_id, name)
);

CREATE TABLE steps (
  id INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  step_id TEXT NOT NULL,
  flow_name TEXT NOT NULL,
  stage_seq INTEGER NOT NULL,
  stage_name TEXT NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  depends_on TEXT NOT NULL,
  -- dependencies not yet completed; the step is claimable only at zero
  unmet_deps INTEGER NOT NULL,
  max_retries INTEGER NOT NULL,
  retry_count INTEGER NOT NULL DEFAULT 0,
  -- increases on every claim and never goes back: the fencing token of the lease
  attempt INTEGER NOT NULL DEFAULT 0,
  env TEXT NOT NULL,
  timeout_seconds INTEGER,
  -- set exactly while the step is claimable (now, or a retry's backoff); NULL while blocked
  available_at INTEGER,
  worker_id TEXT,
  claimed_at INTEGER,
  heartbeat_at INTEGER,
  exit_code INTEGER,
  stdout TEXT,
  stderr TEXT,
  fields TEXT NOT NULL DEFAULT '{}',
  error TEXT,
  termination_reason TEXT,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  completed_at INTEGER,
  updated_at INTEGER NOT NULL,
  UNIQUE (run_id, step_id)
);
-- The claim reads only claimable rows: finished work and blocked steps are not in this index.
CREATE INDEX steps_claimable ON steps (available_at) WHERE status = 'pending' AND available_at IS NOT NULL;
-- The reaper and the concurrency count read only running rows.
CREATE INDEX steps_running ON steps (heartbeat_at) WHERE status = 'running';
CREATE INDEX steps_run_stage ON steps (run_id, stage_seq, status);

-- One row per dependency edge, to find a finished step's dependents without scanning its run.
CREATE TABLE step_dependencies (
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  depends_on TEXT NOT NULL,
  step_id TEXT NOT NULL,
  PRIMARY KEY (run_id, depends_on, step_id)
);

-- Flow callbacks are queued rows, claimed like steps, so none is lost or doubled.
CREATE TABLE flow_calls (
  id INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  flow_name TEXT NOT NULL,
  completed_stage TEXT,
  failed_stage TEXT,
  status TEXT NOT NULL,
  attempt INTEGER NOT NULL DEFAULT 0,
  available_at INTEGER,
  worker_id TEXT,
  claimed_at INTEGER,
  heartbeat_at INTEGER,
  exit_code INTEGER,
  stdout TEXT,
  stderr TEXT,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  completed_at INTEGER
);
CREATE INDEX flow_calls_claimable ON flow_calls (available_at) WHERE status = 'queued';
CREATE INDEX flow_calls_running ON flow_calls (heartbeat_at) WHERE status = 'running';
CREATE INDEX flow_calls_run ON flow_calls (run_id, status);

CREATE TABLE logs (
  id INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  entity_type TEXT NOT NULL,
  entity_id TEXT,
  level TEXT NOT NULL,
  message TEXT NOT NULL,
  metadata TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX logs_run_id ON logs (run_id, id);
