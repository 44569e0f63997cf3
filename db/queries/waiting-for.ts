// Why a pending step or run is not running (`waitingFor`), worked out when the answer is read: the
// claim and exit paths do no extra work for it. A read of any number of steps adds two statements,
// sent side by side: the run's context (its status, its first unfinished stage, the live workers'
// counts) and the unmet dependencies of its pending steps.

import { sql } from 'drizzle-orm'
import { toNullableNumber, toNumber, type Dialect, type SqlExecutor } from '../sql-executor.js'
import { WORKER_LIVE_HEARTBEATS, type RunStatus, type WaitingFor } from '../types.js'
import type { Row } from './map-rows.js'

export interface WaitContext {
  now: number
  runStatus: RunStatus
  /** The run's earliest stage that has not completed: later stages wait for it. */
  openStage: { name: string; seq: number } | null
  /** Live workers (seen within WORKER_LIVE_HEARTBEATS of their heartbeat), and their slots. */
  workers: { live: number; running: number; limit: number }
  /** Pending step id → the ids it depends on that have not completed. */
  unmetDeps: Map<string, string[]>
}

const liveWorkers = (now: number, what: string) =>
  sql`(SELECT ${sql.raw(what)} FROM workers WHERE seen_at + ${WORKER_LIVE_HEARTBEATS} * heartbeat_ms >= ${now})`

/** The run's context in one statement; null when there is no such run. */
export async function loadRunWaitContext(
  db: SqlExecutor,
  runId: string,
  now: number,
): Promise<Omit<WaitContext, 'unmetDeps'> | null> {
  const rows = await db.all<Row>(sql`
    SELECT r.status AS run_status,
      (SELECT name FROM stages WHERE run_id = r.id AND status <> 'completed' ORDER BY seq LIMIT 1) AS open_stage,
      (SELECT seq FROM stages WHERE run_id = r.id AND status <> 'completed' ORDER BY seq LIMIT 1) AS open_seq,
      ${liveWorkers(now, 'COUNT(*)')} AS live,
      ${liveWorkers(now, 'COALESCE(SUM(running), 0)')} AS running,
      ${liveWorkers(now, 'COALESCE(SUM(step_limit), 0)')} AS step_limit
    FROM runs r WHERE r.id = ${runId}`)
  const row = rows[0]
  if (row === undefined) return null
  const openSeq = toNullableNumber(row.open_seq)
  return {
    now,
    runStatus: String(row.run_status) as RunStatus,
    openStage: openSeq === null ? null : { name: String(row.open_stage), seq: openSeq },
    workers: { live: toNumber(row.live), running: toNumber(row.running), limit: toNumber(row.step_limit) },
  }
}

/**
 * The unmet dependencies of the run's pending steps, in one statement: of all of them, or of the
 * given ones (a page of a 10,000-step stage reads its own steps' dependencies, not the stage's).
 */
export async function loadUnmetDeps(
  d: Pick<Dialect, 'db' | 'isIn'>,
  runId: string,
  stepIds?: readonly string[],
): Promise<Map<string, string[]>> {
  const rows = await d.db.all<Row>(sql`
    SELECT sd.step_id, sd.depends_on FROM step_dependencies sd
    JOIN steps s ON s.run_id = sd.run_id AND s.step_id = sd.step_id
    JOIN steps dep ON dep.run_id = sd.run_id AND dep.step_id = sd.depends_on
    WHERE sd.run_id = ${runId} AND s.status = 'pending' AND dep.status <> 'completed'
      ${stepIds === undefined ? sql`` : sql`AND ${d.isIn(sql`sd.step_id`, stepIds)}`}
    ORDER BY sd.step_id, sd.depends_on`)
  const out = new Map<string, string[]>()
  for (const row of rows) {
    const id = String(row.step_id)
    const deps = out.get(id) ?? []
    deps.push(String(row.depends_on))
    out.set(id, deps)
  }
  return out
}

/** Ready to run: who would claim it, if anyone can. */
function readyWait(ctx: Pick<WaitContext, 'workers'>): WaitingFor {
  if (ctx.workers.live === 0) return { reason: 'no_worker' }
  if (ctx.workers.running >= ctx.workers.limit) {
    return { reason: 'concurrency_limit', running: ctx.workers.running, limit: ctx.workers.limit }
  }
  return { reason: 'queued' }
}

/** A step row (snake_case columns) → why it waits; null unless it is pending. */
export function stepWaitingFor(row: Row, ctx: WaitContext): WaitingFor | null {
  if (row.status !== 'pending') return null
  if (ctx.runStatus === 'paused') return { reason: 'paused' }
  const availableAt = toNullableNumber(row.available_at)
  if (availableAt !== null) {
    return availableAt > ctx.now ? { reason: 'retry_delay', until: availableAt } : readyWait(ctx)
  }
  const deps = ctx.unmetDeps.get(String(row.step_id))
  if (deps !== undefined && deps.length > 0) return { reason: 'dependencies', steps: deps }
  const seq = toNullableNumber(row.stage_seq)
  if (ctx.openStage !== null && seq !== null && seq > ctx.openStage.seq) {
    return { reason: 'earlier_stage', stage: ctx.openStage.name }
  }
  return readyWait(ctx)
}

/**
 * A run: `paused`, or, while `pending` (its first flow call not yet claimed), whether a worker can
 * claim it. Flow calls take no step slot (scheduler/slot-pool.ts): a worker at its concurrency
 * limit still claims them, so a pending run never waits for the limit. A running run waits on
 * nothing of its own: its steps say what they wait for.
 */
export function runWaitingFor(ctx: Omit<WaitContext, 'unmetDeps'>): WaitingFor | null {
  if (ctx.runStatus === 'paused') return { reason: 'paused' }
  if (ctx.runStatus !== 'pending') return null
  return ctx.workers.live === 0 ? { reason: 'no_worker' } : { reason: 'queued' }
}
