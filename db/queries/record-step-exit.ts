import { sql } from 'drizzle-orm'
import { decideAttempt } from '../rules/decide-attempt.js'
import type { Json } from '../types.js'
import { failDependents, releaseDependents } from './propagate-step-end.js'
import { settleStage } from './settle-stage.js'
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
 * A success needs nothing from the row to be decided, so one UPDATE both records it and answers the
 * step's stage; it matches nothing when the report is stale or repeated.
 */
async function markCompleted(tx: Tx, end: StepAttemptEnd, now: number): Promise<number | null> {
  const rows = await tx.q.all<{ stage_seq: number }>(sql`
    UPDATE steps SET status = 'completed', exit_code = ${end.exitCode},
      stdout = ${end.stdout ?? null}, stderr = ${end.stderr ?? null}, error = NULL,
      termination_reason = NULL, available_at = NULL, completed_at = ${now}, heartbeat_at = NULL,
      updated_at = ${now}
    WHERE run_id = ${end.runId} AND step_id = ${end.stepId} AND status = 'running' AND attempt = ${end.attempt}
    RETURNING stage_seq`)
  return rows[0] === undefined ? null : Number(rows[0].stage_seq)
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
  // A success is written together with the run's lock (PostgreSQL pipelines the two; the lock is
  // still taken first): a step's end is then three round trips, the last one with the COMMIT.
  const [run, completedIn] = await Promise.all([
    lockRun(tx, end.runId),
    succeeded ? markCompleted(tx, end, now) : null,
  ])
  if (run === null) return false
  const runRef = { id: end.runId, flowName: String(run.flow_name), status: String(run.status) }
  if (succeeded) {
    if (completedIn === null) return false
    // Sent together, release first (a connection runs statements in the order they were sent):
    // the settle's first question (is a sibling still open?) does not read what the release
    // changes, and a stage the settle starts sees the dependents already released.
    await Promise.all([
      releaseDependents(tx, end.runId, end.stepId, isRunOpen(run.status), now),
      settleStage(tx, runRef, completedIn, now),
    ])
    return true
  }

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
