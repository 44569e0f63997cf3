import { sql } from 'drizzle-orm'
import { toNumber, type SqlExecutor } from '../sql-executor.js'
import { WORKER_LIVE_HEARTBEATS, type WorkerRecord } from '../types.js'
import type { Row } from './map-rows.js'

/** A worker says it is alive: one upsert (its start, and each heartbeat after). */
export async function recordWorker(db: SqlExecutor, worker: WorkerRecord): Promise<void> {
  await db.run(sql`
    INSERT INTO workers (id, host, pid, kind, started_at, seen_at, running, step_limit, heartbeat_ms)
    VALUES (${worker.id}, ${worker.host}, ${worker.pid}, ${worker.kind}, ${worker.startedAt},
            ${worker.seenAt}, ${worker.running}, ${worker.limit}, ${worker.heartbeatMs})
    ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid, kind = excluded.kind,
      started_at = excluded.started_at, seen_at = excluded.seen_at, running = excluded.running,
      step_limit = excluded.step_limit, heartbeat_ms = excluded.heartbeat_ms`)
}

/** A clean stop: the worker is gone, not merely late. */
export async function removeWorker(db: SqlExecutor, workerId: string): Promise<void> {
  await db.run(sql`DELETE FROM workers WHERE id = ${workerId}`)
}

/** The condition "seen within WORKER_LIVE_HEARTBEATS of its own heartbeat intervals". */
const live = (now: number) => sql`seen_at + ${WORKER_LIVE_HEARTBEATS} * heartbeat_ms >= ${now}`

export async function listLiveWorkers(db: SqlExecutor, now: number): Promise<WorkerRecord[]> {
  const rows = await db.all<Row>(sql`SELECT * FROM workers WHERE ${live(now)} ORDER BY id`)
  return rows.map((row) => ({
    id: String(row.id),
    host: String(row.host),
    pid: toNumber(row.pid),
    kind: String(row.kind) as WorkerRecord['kind'],
    startedAt: toNumber(row.started_at),
    seenAt: toNumber(row.seen_at),
    running: toNumber(row.running),
    limit: toNumber(row.step_limit),
    heartbeatMs: toNumber(row.heartbeat_ms),
  }))
}

/** Rows of workers that died without a clean stop; answers how many went. */
export async function deleteExpiredWorkers(db: SqlExecutor, now: number): Promise<number> {
  const rows = await db.all<Row>(sql`DELETE FROM workers WHERE NOT (${live(now)}) RETURNING id`)
  return rows.length
}

/** Live workers' counts, as a scalar subquery's SQL for one statement that reads more. */
export const liveWorkerTotals = (now: number) => sql`
  SELECT COUNT(*) AS live, COALESCE(SUM(running), 0) AS running, COALESCE(SUM(step_limit), 0) AS step_limit
  FROM workers WHERE ${live(now)}`
