// What the event stream reads (docs/events.md): the states of runs, stages, steps and flow calls
// that changed since a time, from the state rows themselves. Nothing is written for the stream, so
// the hot paths pay nothing for it; the reader pays, and only while someone listens.
//
// A step or a run says when it last changed (`updated_at`). Stages and flow calls have only their
// own timestamps, and a stage reset by a retry has none newer; but every such change happens in a
// transaction that also touches its run's row or one of its steps (the run lock, db/queries/tx.ts),
// stamped with the same `now`. So a stage or flow call is read when its own timestamps or its run's
// are new enough: a few rows per run, compared by the caller with what it last sent.

import { sql } from 'drizzle-orm'
import type { Dialect } from '../sql-executor.js'
import { toNullableNumber, toNumber } from '../sql-executor.js'
import type { FlowCallStatus, RunStatus, StageStatus, StepStatus } from '../types.js'
import type { Row } from './map-rows.js'

/** Which runs to read: every open or recently ended run, and/or these. */
export interface ChangeScope {
  allRuns: boolean
  runIds: readonly string[]
}

export interface RunChange {
  event: 'run'
  data: {
    runId: string
    status: RunStatus
    at: number
    terminationReason?: string | null
    completedAt?: number | null
  }
}

export interface StageChange {
  event: 'stage'
  data: { runId: string; stage: string; status: StageStatus; at: number }
}

export interface StepChange {
  event: 'step'
  data: {
    runId: string
    stepId: string
    stage: string
    status: StepStatus
    attempt: number
    at: number
    exitCode?: number
    terminationReason?: string
  }
}

export interface FlowCallChange {
  event: 'flow_call'
  data: { runId: string; callId: number; status: FlowCallStatus; at: number; exitCode?: number }
}

/** One entity's state as read: what one stream event carries. */
export type Change = RunChange | StageChange | StepChange | FlowCallChange

export interface Changes {
  /** Every entity state changed at or after `since` (and some unchanged ones: compare before sending). */
  changes: Change[]
  /** The runs read (open, recently ended, or asked for) that exist, with their status. */
  runs: Map<string, RunStatus>
}

const RANK: Record<Change['event'], number> = { step: 0, flow_call: 1, stage: 2, run: 3 }
const OPEN = sql`('pending', 'running', 'paused')`
const ENDED = sql`('completed', 'failed')`

/**
 * The changes at or after `since` in the scope's runs, oldest first. `since = 0` reads the runs'
 * whole state. Four statements, whatever the number of listeners; the steps are read through the
 * run index and filtered by `updated_at`, the rest is a few rows per run.
 */
export async function readChanges(d: Dialect, scope: ChangeScope, since: number): Promise<Changes> {
  const db = d.db
  const runRows: Row[] = []
  if (scope.allRuns) {
    // Both halves are index lookups (runs_status_created_at, runs_finished_completed_at).
    runRows.push(
      ...(await db.all<Row>(sql`
        SELECT id, status, termination_reason, completed_at, updated_at FROM runs WHERE status IN ${OPEN}`)),
      ...(await db.all<Row>(sql`
        SELECT id, status, termination_reason, completed_at, updated_at FROM runs
        WHERE status IN ${ENDED} AND completed_at >= ${since}`)),
    )
  }
  if (scope.runIds.length > 0) {
    runRows.push(
      ...(await db.all<Row>(sql`
        SELECT id, status, termination_reason, completed_at, updated_at FROM runs
        WHERE ${d.isIn(sql`id`, scope.runIds)}`)),
    )
  }
  const runs = new Map<string, Row>()
  for (const row of runRows) runs.set(String(row.id), row)
  const statuses = new Map([...runs].map(([id, row]) => [id, row.status as RunStatus]))
  if (runs.size === 0) return { changes: [], runs: statuses }
  const ids = [...runs.keys()]
  const [steps, stages, flowCalls] = await Promise.all([
    db.all<Row>(sql`
      SELECT run_id, step_id, stage_name, status, attempt, exit_code, termination_reason, updated_at
      FROM steps WHERE ${d.isIn(sql`run_id`, ids)} AND updated_at >= ${since}`),
    db.all<Row>(sql`
      SELECT run_id, seq, name, status, created_at, started_at, completed_at
      FROM stages WHERE ${d.isIn(sql`run_id`, ids)}`),
    db.all<Row>(sql`
      SELECT id, run_id, status, attempt, exit_code, created_at, started_at, completed_at, available_at
      FROM flow_calls WHERE ${d.isIn(sql`run_id`, ids)}`),
  ])

  const changes: Change[] = []
  /** Per run touched since `since`: when last (a stage reset with it has no newer time of its own). */
  const touched = new Map<string, number>()
  const touch = (runId: string, at: number) => touched.set(runId, Math.max(at, touched.get(runId) ?? 0))
  for (const [runId, row] of runs) {
    const at = toNumber(row.updated_at)
    if (at < since) continue
    touch(runId, at)
    changes.push(runChange(runId, row, at))
  }
  for (const row of steps) {
    const change = stepChange(row)
    touch(change.data.runId, change.data.at)
    changes.push(change)
  }
  /** Its own newest time, or its run's last touch when that is all that says it may have changed. */
  const when = (row: Row, columns: string[]): number | null => {
    const own = newest(row, columns)
    if (own >= since) return own
    const runTouched = touched.get(String(row.run_id))
    return runTouched === undefined ? null : runTouched
  }
  for (const row of stages) {
    const at = when(row, ['created_at', 'started_at', 'completed_at'])
    if (at === null) continue
    changes.push({
      event: 'stage',
      data: { runId: String(row.run_id), stage: String(row.name), status: row.status as StageStatus, at },
    })
  }
  for (const row of flowCalls) {
    // A re-queued call (lease lost, worker stopped) says when only by its available_at.
    const at = when(row, ['created_at', 'started_at', 'completed_at', 'available_at'])
    if (at === null) continue
    const exitCode = toNullableNumber(row.exit_code)
    changes.push({
      event: 'flow_call',
      data: {
        runId: String(row.run_id),
        callId: toNumber(row.id),
        status: row.status as FlowCallStatus,
        at,
        ...(exitCode === null ? {} : { exitCode }),
      },
    })
  }
  // One transaction's changes share their `at`: its steps first, then their stage, then the run.
  changes.sort((a, b) => a.data.at - b.data.at || RANK[a.event] - RANK[b.event])
  return { changes, runs: statuses }
}

function runChange(runId: string, row: Row, at: number): RunChange {
  const status = row.status as RunStatus
  const ended = status === 'completed' || status === 'failed'
  return {
    event: 'run',
    data: {
      runId,
      status,
      at,
      ...(ended
        ? {
            terminationReason: row.termination_reason === null ? null : String(row.termination_reason),
            completedAt: toNullableNumber(row.completed_at),
          }
        : {}),
    },
  }
}

function stepChange(row: Row): StepChange {
  const exitCode = toNullableNumber(row.exit_code)
  const reason = row.termination_reason
  return {
    event: 'step',
    data: {
      runId: String(row.run_id),
      stepId: String(row.step_id),
      stage: String(row.stage_name),
      status: row.status as StepStatus,
      attempt: toNumber(row.attempt),
      at: toNumber(row.updated_at),
      ...(exitCode === null ? {} : { exitCode }),
      ...(reason === null || reason === undefined ? {} : { terminationReason: String(reason) }),
    },
  }
}

function newest(row: Row, columns: string[]): number {
  let at = 0
  for (const column of columns) at = Math.max(at, toNullableNumber(row[column]) ?? 0)
  return at
}

/** The run's status and last change, for a stream's start (null: no such run). */
export async function readRunHead(
  d: Dialect,
  runId: string,
): Promise<{ status: RunStatus; updatedAt: number } | null> {
  const rows = await d.db.all<Row>(sql`SELECT status, updated_at FROM runs WHERE id = ${runId}`)
  const row = rows[0]
  return row === undefined ? null : { status: row.status as RunStatus, updatedAt: toNumber(row.updated_at) }
}
