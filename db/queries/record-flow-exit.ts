import { sql } from 'drizzle-orm'
import { parseJson } from '../sql-executor.js'
import type { Json } from '../types.js'
import { endRun } from './end-run.js'
import { insertFlowCallAttempt, runningFlowCall, terminationOf } from './record-attempt.js'
import { lateExitLog } from './outlived-flow-call.js'
import { isRunActive, lockRunStatement, type Tx } from './tx.js'
import { writeLog } from './write-log.js'

export interface FlowAttemptEnd {
  runId: string
  callId: number
  attempt: number
  exitCode: number | null
  signal?: string | null
  timedOut?: boolean
  stdout?: string
  stderr?: string
}

/**
 * Records the end of one flow.sh call. Non-zero: the run fails and its open work is cancelled.
 * Zero with nothing left to do (no unsettled stage, no other call queued): the run ends, failed
 * when a stage post of this call was refused or its last stage failed, otherwise completed with a
 * warning.
 */
export async function recordFlowExit(tx: Tx, end: FlowAttemptEnd, now: number): Promise<boolean> {
  const succeeded = end.exitCode === 0 && !end.timedOut
  // One pipeline, one flight on PostgreSQL: the lock first, then the attempt's history row and the
  // call's update, then the question of what is left, which runs after the update and so sees it.
  const [locked = [], , changed = [], open = []] = await tx.q.pipeline([
    lockRunStatement(tx, end.runId),
    insertFlowCallAttempt(
      runningFlowCall(end.runId, end.callId, end.attempt),
      { ...end, terminationReason: terminationOf(end) },
      now,
    ),
    sql`
      UPDATE flow_calls SET status = CASE WHEN termination_reason IS NOT NULL THEN 'cancelled'
          ELSE ${succeeded ? 'completed' : 'failed'} END, exit_code = ${end.exitCode},
        stdout = ${end.stdout ?? null}, stderr = ${end.stderr ?? null}, completed_at = ${now},
        heartbeat_at = NULL
      WHERE id = ${end.callId} AND run_id = ${end.runId} AND status = 'running' AND attempt = ${end.attempt}
      RETURNING id, termination_reason`,
    sql`
      SELECT
        (SELECT COUNT(*) FROM stages WHERE run_id = ${end.runId} AND status IN ('pending', 'running')) AS stages,
        (SELECT COUNT(*) FROM flow_calls WHERE run_id = ${end.runId} AND status IN ('queued', 'running')) AS calls`,
  ])
  const run = locked[0]
  if (run === undefined || changed.length === 0) return false
  // A call that outlived its run (db/queries/outlived-flow-call.ts), or that was told to stop after
  // it ended (even if a step retry has reopened the run since): recorded, the run unchanged.
  const reason = changed[0]?.termination_reason
  const toldToStop = typeof reason === 'string'
  if (!isRunActive(run.status) || toldToStop) {
    const exit = {
      callId: end.callId,
      exitCode: end.exitCode,
      signal: end.signal ?? null,
      runStatus: String(run.status),
      terminationReason: toldToStop ? reason : null,
    }
    tx.q.beforeCommit([lateExitLog(tx, end.runId, exit, now)])
    return true
  }

  if (!succeeded) {
    // A refused stage post is most often why a flow exits non-zero (curl --fail-with-body, set -e):
    // the run's error says what was refused, not only curl's "returned error: 400".
    const refusal = await refusalOf(tx, end.callId)
    const error = {
      reason: 'flow_failed',
      exitCode: end.exitCode,
      signal: end.signal ?? null,
      timedOut: end.timedOut ?? false,
      stderr: (end.stderr ?? '').slice(-2000),
      ...(refusal === null ? {} : { refused: refusal }),
    }
    await endRun(tx, end.runId, { status: 'failed', terminationReason: 'flow_failed', error }, now)
    return true
  }

  if (Number(open[0]?.calls ?? 0) > 0) {
    // Calls of a run never overlap: the callback queued while this one ran is claimable now.
    tx.wake('work')
    return true
  }
  if (Number(open[0]?.stages ?? 0) > 0) return true

  // It exits 0 having scheduled nothing, but a stage it posted was refused: a plan that went wrong,
  // not a flow that chose to end.
  const refusal = await refusalOf(tx, end.callId)
  if (refusal !== null) {
    const error = { reason: 'schedule_refused', ...refusal }
    await endRun(tx, end.runId, { status: 'failed', terminationReason: 'schedule_refused', error }, now)
    return true
  }

  const last = await tx.q.all<{ name: string; status: string }>(sql`
    SELECT name, status FROM stages WHERE run_id = ${end.runId} ORDER BY seq DESC LIMIT 1`)
  const lastStage = last[0]
  if (lastStage?.status === 'failed') {
    const error = { reason: 'stage_failed', stage: lastStage.name }
    await endRun(tx, end.runId, { status: 'failed', terminationReason: 'stage_failed', error }, now)
    return true
  }
  await writeLog(
    tx,
    end.runId,
    {
      entityType: 'flow',
      entityId: String(run.flow_name),
      level: 'warn',
      message: 'flow.sh scheduled nothing and no stage is open; the run is complete',
    },
    now,
  )
  await endRun(tx, end.runId, { status: 'completed' }, now)
  return true
}

/** The stage post refused while this flow call ran (db/queries/record-refusal.ts), if any. */
async function refusalOf(tx: Tx, callId: number): Promise<Record<string, Json> | null> {
  const rows = await tx.q.all<{ refusal: unknown }>(sql`SELECT refusal FROM flow_calls WHERE id = ${callId}`)
  return parseJson<Record<string, Json> | null>(rows[0]?.refusal, null)
}
