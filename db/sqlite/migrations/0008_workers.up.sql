-- Workers that say they are alive: a long-running worker (tick --watch, the local runner) writes its
-- row at start and every few seconds after (scheduler/worker.ts), deletes it on a clean stop; a
-- one-shot tick writes its row once. A row not seen within three of its own heartbeat_ms is a dead
-- worker's, and the tick deletes it. Read by GET /health and by waitingFor (no worker; workers full).
CREATE TABLE workers (
  id TEXT PRIMARY KEY,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  kind TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  seen_at INTEGER NOT NULL,
  running INTEGER NOT NULL,
  step_limit INTEGER NOT NULL,
  heartbeat_ms INTEGER NOT NULL
);
