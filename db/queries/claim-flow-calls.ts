import { sql, type SQL } from 'drizzle-orm'
import { flowLease } from '../rules/lease-key.js'
import { toNumber, type Dialect, type SqlExecutor, type SystemLine, type Tail } from '../sql-executor.js'
import type { ClaimedFlowCall, ClaimLimits } from '../store.js'
import type { Tx } from './tx.js'

/**
 * Most ticks find no queued call: the store asks this first, outside any transaction, from the
 * partial index alone (and before the claim's joins get a chance to be planned from the runs side).
 */
export async function flowCallDue(db: SqlExecutor, now: number): Promise<boolean> {
  const rows = await db.all<{ found: number }>(sql`
    SELECT 1 AS found FROM flow_calls WHERE status = 'queued' AND available_at <= ${now} LIMIT 1`)
  return rows.length > 0
}

/**
 * Claims queued flow calls. A run's calls never overlap and keep their order: a call is claimable
 * only when no earlier call of its run is queued or running, and only while the run is open.
 * The first claimed call of a run moves it from pending to running, found by the claimed rows'
 * run ids. PostgreSQL: one statement (a writable CTE, like graphile-worker's job fetch), outside
 * any explicit transaction. SQLite: the claim, then the runs' start, in one transaction.
 */
export async function claimFlowCalls(
  d: Dialect,
  claim: ClaimLimits,
  now: number,
): Promise<ClaimedFlowCall[]> {
  if (claim.limit <= 0) return []
  if (d.name === 'postgres') {
    const rows = await d.db.all<Record<string, unknown>>(claimAndStart(d, claim, now))
    // One statement, committed once it has answered.
    d.systemLog.tell(startedLines(rows, (row) => Boolean(row.run_started)))
    return rows.map(toClaimedFlowCall)
  }
  return d.transaction(async (q) => {
    const rows = await q.all<Record<string, unknown>>(flowCallClaimStatement(d, claim, now))
    const runIds = [...new Set(rows.map((row) => String(row.run_id)))]
    const started =
      runIds.length > 0 ? await q.all<{ id: string }>(startRuns(d, sql`${d.isIn(sql`id`, runIds)}`, now)) : []
    const startedIds = new Set(started.map((row) => String(row.id)))
    for (const line of startedLines(rows, (row) => startedIds.has(String(row.run_id)))) q.systemLog(line)
    return rows.map(toClaimedFlowCall)
  })
}

/** A run's first claimed call starts it: one `run_started` line per run the claim moved to running. */
function startedLines(
  rows: Record<string, unknown>[],
  started: (row: Record<string, unknown>) => boolean,
): SystemLine[] {
  return rows
    .filter(started)
    .map((row) => ({ event: 'run_started', runId: String(row.run_id), flow: String(row.flow_name) }))
}

/**
 * The same claim for one run's calls, last in a transaction that may have queued one (a step's
 * exit claims the callback it queued). Its rows are the tail's first answer, once committed.
 */
export function claimRunFlowCallsAtCommit(tx: Tx, runId: string, claim: ClaimLimits, now: number): Tail {
  const onlyRun = sql`AND f.run_id = ${runId}`
  if (tx.d.name === 'postgres') return tx.q.beforeCommit([claimAndStart(tx.d, claim, now, onlyRun)])
  return tx.q.beforeCommit([
    flowCallClaimStatement(tx.d, claim, now, onlyRun),
    startRuns(tx.d, sql`id = ${runId}`, now),
  ])
}

/** Answers the claimed calls of a tail made by `claimRunFlowCallsAtCommit`. */
export function claimedFlowCalls(tail: Tail): ClaimedFlowCall[] {
  return (tail.rows()[0] ?? []).map(toClaimedFlowCall)
}

/**
 * `CROSS JOIN` makes SQLite read the queued calls first, from their partial index: planned from the
 * runs' side (its choice without statistics) a claim reads every open run. PostgreSQL plans it as
 * the inner join it is. The run is joined, not tested with EXISTS, so that on PostgreSQL `FOR UPDATE
 * SKIP LOCKED` locks the run row with the call (or skips both): the run's start then never waits,
 * and a transaction that holds the run lock and then cancels the run's calls (an abort) cannot
 * deadlock with this claim.
 */
export function flowCallClaimStatement(d: Dialect, claim: ClaimLimits, now: number, onlyRun = sql``): SQL {
  return sql`
    UPDATE flow_calls SET status = 'running', attempt = attempt + 1, worker_id = ${claim.workerId},
      claimed_at = ${now}, heartbeat_at = ${now}, started_at = ${now}, available_at = NULL
    WHERE id IN (
      SELECT f.id FROM flow_calls f CROSS JOIN runs r
      WHERE r.id = f.run_id AND f.status = 'queued' AND f.available_at <= ${now}
        AND r.status IN ('pending', 'running') ${onlyRun}
        AND NOT EXISTS (SELECT 1 FROM flow_calls e
                        WHERE e.run_id = f.run_id AND e.id <> f.id
                          AND (e.status = 'running' OR (e.status = 'queued' AND e.id < f.id)))
      ORDER BY f.available_at, f.id LIMIT ${claim.limit} ${d.skipLocked})
    RETURNING id, run_id, flow_name, attempt, completed_stage, failed_stage`
}

/** Pending runs become running; `which` picks them by id. */
function startRuns(_d: Dialect, which: SQL, now: number): SQL {
  return sql`
    UPDATE runs SET status = 'running', started_at = COALESCE(started_at, ${now}), updated_at = ${now}
    WHERE status = 'pending' AND ${which}
    RETURNING id`
}

/** PostgreSQL: the claim and the start of its runs in one statement, by the claimed rows' run ids. */
function claimAndStart(d: Dialect, claim: ClaimLimits, now: number, onlyRun = sql``): SQL {
  return sql`
    WITH claimed AS (${flowCallClaimStatement(d, claim, now, onlyRun)}),
      started AS (${startRuns(d, sql`id IN (SELECT run_id FROM claimed)`, now)})
    SELECT claimed.*, EXISTS (SELECT 1 FROM started WHERE started.id = claimed.run_id) AS run_started
    FROM claimed`
}

function toClaimedFlowCall(row: Record<string, unknown>): ClaimedFlowCall {
  const callId = toNumber(row.id)
  const attempt = toNumber(row.attempt)
  return {
    lease: flowLease(String(row.run_id), callId, attempt),
    runId: String(row.run_id),
    flowName: String(row.flow_name),
    callId,
    attempt,
    completedStage: row.completed_stage === null ? null : String(row.completed_stage),
    failedStage: row.failed_stage === null ? null : String(row.failed_stage),
  }
}
