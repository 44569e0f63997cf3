import { randomUUID } from 'node:crypto'
import { sql } from 'drizzle-orm'
import { decideAttempt } from '../rules/decide-attempt.js'
import type { Json } from '../types.js'
import { failDependents, releaseDependents } from './propagate-step-end.js'
import { closeStage, moveOn, settleStage, type RunRef } from './settle-stage.js'
import type { Row } from './map-rows.js'
import { isRunOpen, lockRun, type Tx } from './tx.js'
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

/**
 * A success needs nothing from the row to be decided, so one UPDATE records it; it matches nothing
 * when the report is stale or repeated. It leaves the report's token on the row for the statements
 * sent behind it (see releaseDependents).
 */
async function markCompleted(tx: Tx, end: StepAttemptEnd, exitToken: string, now: number): Promise<boolean> {
  const changed = await tx.q.run(sql`
    UPDATE steps SET status = 'completed', exit_code = ${end.exitCode},
      stdout = ${end.stdout ?? null}, stderr = ${end.stderr ?? null}, error = NULL,
      termination_reason = NULL, available_at = NULL, completed_at = ${now}, heartbeat_at = NULL,
      updated_at = ${now}, exit_token = ${exitToken}
    WHERE run_id = ${end.runId} AND step_id = ${end.stepId} AND status = 'running' AND attempt = ${end.attempt}`)
  return changed > 0
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
    // One round trip, sent in this order and run in it: the run's lock, the step's update, then
    // what follows from it, each guarded by the report's token, so nothing waits for an answer
    // while the run is locked. The stage is found through the step row; a stale report settles
    // nothing. A step's end is then two round trips, the last one with the COMMIT.
    const exitToken = randomUUID()
    const completed = { runId: end.runId, stepId: end.stepId, exitToken }
    const [run, accepted, , stage] = await Promise.all([
      lockRun(tx, end.runId),
      markCompleted(tx, end, exitToken, now),
      releaseDependents(tx, completed, now),
      closeStage(
        tx,
        end.runId,
        sql`SELECT stage_seq FROM steps
          WHERE run_id = ${end.runId} AND step_id = ${end.stepId} AND exit_token = ${exitToken}`,
        now,
      ),
    ])
    if (run === null || !accepted) return false
    await moveOn(tx, runRefOf(end.runId, run), stage, now)
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
