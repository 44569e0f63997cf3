// What GET /metrics reads from the database at scrape time, so that every API process reports the
// same numbers however many there are. Each statement stays on an index and on bounded rows:
// runs by status (the trigger-kept run counts, folded to one row per flow and status); steps
// of the runs still open, not of every run ever (through steps_run_stage); queued and running
// flow calls (their partial indexes); and runs finished within a recent window (the partial index
// runs_finished_completed_at), not all history.

import { sql } from 'drizzle-orm'
import type { SqlExecutor } from '../sql-executor.js'
import type { RunStatus, StepStatus } from '../types.js'

/** Upper bounds (seconds) of the recent run duration buckets; +Inf is implied. */
export const RUN_DURATION_BUCKETS = [1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600] as const

export interface DurationBuckets {
  /** Runs at or under each bound of RUN_DURATION_BUCKETS, in order (cumulative). */
  buckets: number[]
  count: number
  sumSeconds: number
}

export interface MetricsCounts {
  runs: Partial<Record<RunStatus, number>>
  /** Steps of runs that are pending, running or paused. */
  openRunSteps: Partial<Record<StepStatus, number>>
  /** Pending steps whose time has come (what a claim takes), of open runs. */
  readySteps: number
  queuedFlowCalls: { ready: number; waiting: number }
  runningFlowCalls: number
  /** Runs that finished since `since`, by status, that had started. */
  recentRunDurations: Partial<Record<'completed' | 'failed', DurationBuckets>>
}

type Count = number | string | null

export async function readMetrics(db: SqlExecutor, now: number, since: number): Promise<MetricsCounts> {
  // The counts GET /runs's totals come from (db/queries/run-counts.ts): a few rows, not every run.
  const runs = await db.all<{ status: RunStatus; n: Count }>(
    sql`SELECT status, SUM(delta) AS n FROM run_count_changes GROUP BY status`,
  )
  const steps = await db.all<{ status: StepStatus; n: Count; ready: Count }>(sql`
    SELECT s.status AS status, COUNT(*) AS n,
      SUM(CASE WHEN s.status = 'pending' AND s.available_at IS NOT NULL AND s.available_at <= ${now}
        THEN 1 ELSE 0 END) AS ready
    FROM runs r JOIN steps s ON s.run_id = r.id
    WHERE r.status IN ('pending', 'running', 'paused')
    GROUP BY s.status`)
  const calls = await db.all<{ status: string; n: Count; ready: Count }>(sql`
    SELECT status, COUNT(*) AS n, SUM(CASE WHEN available_at <= ${now} THEN 1 ELSE 0 END) AS ready
    FROM flow_calls WHERE status IN ('queued', 'running') GROUP BY status`)
  const bucketColumns = sql.join(
    RUN_DURATION_BUCKETS.map(
      (bound, i) =>
        sql`SUM(CASE WHEN completed_at - started_at <= ${bound * 1000} THEN 1 ELSE 0 END) AS ${sql.raw(`le_${i}`)}`,
    ),
    sql`, `,
  )
  const durations = await db.all<Record<string, Count> & { status: 'completed' | 'failed' }>(sql`
    SELECT status, COUNT(*) AS n, SUM(completed_at - started_at) AS total_ms, ${bucketColumns}
    FROM runs
    WHERE status IN ('completed', 'failed') AND completed_at >= ${since} AND started_at IS NOT NULL
    GROUP BY status`)

  const queued = calls.find((row) => row.status === 'queued')
  return {
    runs: Object.fromEntries(
      runs.filter((row) => Number(row.n) !== 0).map((row) => [row.status, Number(row.n)]),
    ),
    openRunSteps: Object.fromEntries(steps.map((row) => [row.status, Number(row.n)])),
    readySteps: Number(steps.find((row) => row.status === 'pending')?.ready ?? 0),
    queuedFlowCalls: {
      ready: Number(queued?.ready ?? 0),
      waiting: Number(queued?.n ?? 0) - Number(queued?.ready ?? 0),
    },
    runningFlowCalls: Number(calls.find((row) => row.status === 'running')?.n ?? 0),
    recentRunDurations: Object.fromEntries(
      durations.map((row) => [
        row.status,
        {
          buckets: RUN_DURATION_BUCKETS.map((_, i) => Number(row[`le_${i}`] ?? 0)),
          count: Number(row.n),
          sumSeconds: Number(row.total_ms ?? 0) / 1000,
        },
      ]),
    ),
  }
}
