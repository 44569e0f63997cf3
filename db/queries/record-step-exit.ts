import { sql, type SQL } from 'drizzle-orm'
import { decideAttempt } from '../rules/decide-attempt.js'
import type { Json } from '../types.js'
import { failDependents, releaseDependents } from './propagate-step-end.js'
import {
  closeStage,
  closeStageStatement,
  moveOn,
  settleStage,
  type RunRef,
  type SettledStage,
} from './settle-stage.js'
import type { Row } from './map-rows.js'
import { isRunOpen, lockRun, lockRunStatement, type Tx } from './tx.js'
import { writeLog } from './write-log.js'

export interface StepAttemptEnd {
  runId: string
  stepId: string
  attempt: number
  exitCode: number | null
  signal?: string | null
  timedOut?: boolean
  /** The lease expired: the supervisor or its host died. */
  leaseLost?: boolean
  stdout?: string
  stderr?: string
}

/** A success needs nothing from the row to be decided: one UPDATE, matching nothing when stale. */
function markCompleted(end: StepAttemptEnd, now: number): SQL {
  return sql`
    UPDATE steps SET status = 'completed', exit_code = ${end.exitCode},
      stdout = ${end.stdout ?? null}, stderr = ${end.stderr ?? null}, error = NULL,
      termination_reason = NULL, available_at = NULL, completed_at = ${now}, heartbeat_at = NULL,
      updated_at = ${now}
    WHERE run_id = ${end.runId} AND step_id = ${end.stepId} AND status = 'running' AND attempt = ${end.attempt}
    RETURNING stage_seq`
}

interface Completion {
  run: Row | null
  accepted: boolean
  /** Dependents the step's end made claimable. */
  released: number
  stage: SettledStage | undefined
}

/**
 * PostgreSQL: a pipeline of two statements, one flight. The run's lock first, then one statement
 * (writable CTEs) that completes the step, releases its dependents and settles its stage, the last
 * two only when the first matched. It starts once the lock is held, so its snapshot sees every
 * sibling that ended before; its own step still reads as running in it, so the settle leaves that
 * one out by id.
 */
async function completeInOneStatement(tx: Tx, end: StepAttemptEnd, now: number): Promise<Completion> {
  const [locked = [], answer = []] = await tx.q.pipeline([
    lockRunStatement(tx, end.runId),
    sql`
      WITH done AS (${markCompleted(end, now)}),
        released AS (${releaseDependents(tx, end.runId, end.stepId, now, sql`AND EXISTS (SELECT 1 FROM done)`)}),
        settled AS (${closeStageStatement(end.runId, sql`SELECT stage_seq FROM done`, now, end.stepId)})
      SELECT (SELECT COUNT(*) FROM done) AS accepted,
        (SELECT COUNT(*) FROM released WHERE available_at = ${now}) AS released,
        settled.seq, settled.name, settled.final, settled.status
      FROM (SELECT 1) AS one LEFT JOIN settled ON true`,
  ])
  const row = answer[0]
  return {
    run: (locked[0] as Row | undefined) ?? null,
    accepted: Number(row?.accepted ?? 0) > 0,
    released: Number(row?.released ?? 0),
    stage: row?.seq === null || row?.seq === undefined ? undefined : (row as unknown as SettledStage),
  }
}

/** SQLite: the same, as plain statements one after the other (in-process, nothing to save). */
async function completeInSteps(tx: Tx, end: StepAttemptEnd, now: number): Promise<Completion> {
  const run = await lockRun(tx, end.runId)
  const done = run === null ? [] : await tx.q.all<{ stage_seq: number }>(markCompleted(end, now))
  const seq = done[0]?.stage_seq
  if (run === null || seq === undefined) return { run, accepted: false, released: 0, stage: undefined }
  const released = await tx.q.all<{ available_at: number | null }>(
    releaseDependents(tx, end.runId, end.stepId, now),
  )
  const stage = await closeStage(tx, end.runId, sql`${Number(seq)}`, now)
  return {
    run,
    accepted: true,
    released: released.filter((row) => row.available_at !== null && Number(row.available_at) === now).length,
    stage,
  }
}

function failureOf(end: StepAttemptEnd): { reason: string; error: Json } {
  if (end.leaseLost) return { reason: 'lease_expired', error: { reason: 'lease_expired' } }
  if (end.timedOut) return { reason: 'timeout', error: { reason: 'timeout', signal: end.signal ?? null } }
  if (end.exitCode === null)
    return { reason: 'signal', error: { reason: 'signal', signal: end.signal ?? null } }
  return { reason: 'exit_code', error: { reason: 'exit_code', exitCode: end.exitCode } }
}

/**
 * Records the end of one step attempt. The exit code alone decides: 0 completes the step, anything
 * else is a failed attempt that is retried while retries remain. The update matches only the
 * running row with this attempt (the fencing token), so a stale or repeated report changes nothing.
 */
export async function recordStepExit(tx: Tx, end: StepAttemptEnd, now: number): Promise<boolean> {
  const succeeded = end.exitCode === 0 && !end.timedOut && !end.leaseLost
  if (succeeded) {
    const completion =
      tx.d.name === 'postgres'
        ? await completeInOneStatement(tx, end, now)
        : await completeInSteps(tx, end, now)
    if (completion.run === null || !completion.accepted) return false
    if (completion.released > 0) tx.wake('work')
    await moveOn(tx, runRefOf(end.runId, completion.run), completion.stage, now)
    return true
  }

  const run = await lockRun(tx, end.runId)
  if (run === null) return false
  const runRef = runRefOf(end.runId, run)
  const rows = await tx.q.all<{ stage_seq: number; retry_count: number; max_retries: number }>(sql`
    SELECT stage_seq, retry_count, max_retries FROM steps
    WHERE run_id = ${end.runId} AND step_id = ${end.stepId} AND status = 'running' AND attempt = ${end.attempt}`)
  const step = rows[0]
  if (step === undefined) return false
  const decision = decideAttempt({
    succeeded: false,
    retryCount: Number(step.retry_count),
    maxRetries: Number(step.max_retries),
    now,
  })
  const failure = failureOf(end)
  const finished = decision.status !== 'pending'
  await tx.q.run(sql`
    UPDATE steps SET status = ${decision.status}, exit_code = ${end.exitCode},
      stdout = ${end.stdout ?? null}, stderr = ${end.stderr ?? null},
      error = ${tx.d.json(failure.error)},
      termination_reason = ${decision.status === 'failed' ? failure.reason : null},
      retry_count = ${decision.status === 'pending' ? decision.retryCount : Number(step.retry_count)},
      available_at = ${decision.status === 'pending' && isRunOpen(run.status) ? decision.availableAt : null},
      completed_at = ${finished ? now : null}, heartbeat_at = NULL, updated_at = ${now},
      -- a finished step keeps the worker that ran it, for the operator; a retry waits for a new one
      worker_id = ${finished ? sql`worker_id` : null}
    WHERE run_id = ${end.runId} AND step_id = ${end.stepId} AND attempt = ${end.attempt}`)
  // A retry is claimable work (its delay aside, which the tick loops' interval covers).
  if (decision.status === 'pending') tx.wake('work')

  const stageSeq = Number(step.stage_seq)
  await writeLog(
    tx,
    end.runId,
    {
      entityType: 'step',
      entityId: end.stepId,
      level: decision.status === 'pending' ? 'warn' : 'error',
      message:
        decision.status === 'pending'
          ? `step ${end.stepId} attempt ${end.attempt} failed (${failure.reason}); retry ${decision.retryCount}`
          : `step ${end.stepId} failed (${failure.reason})`,
      metadata: failure.error,
    },
    now,
  )
  if (decision.status === 'failed') {
    await failDependents(tx, end.runId, end.stepId, stageSeq, now)
    await settleStage(tx, runRef, stageSeq, now)
  }
  return true
}

function runRefOf(runId: string, run: Row): RunRef {
  return { id: runId, flowName: String(run.flow_name), status: String(run.status) }
}
