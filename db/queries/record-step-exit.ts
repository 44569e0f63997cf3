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
  const run = await lockRun(tx, end.runId)
  if (run === null) return false
  const rows = await tx.q.all<{ stage_seq: number; retry_count: number; max_retries: number }>(sql`
    SELECT stage_seq, retry_count, max_retries FROM steps
    WHERE run_id = ${end.runId} AND step_id = ${end.stepId} AND status = 'running' AND attempt = ${end.attempt}`)
  const step = rows[0]
  if (step === undefined) return false

  const succeeded = end.exitCode === 0 && !end.timedOut && !end.leaseLost
  const decision = decideAttempt({
    succeeded,
    retryCount: Number(step.retry_count),
    maxRetries: Number(step.max_retries),
    now,
  })
  const failure = succeeded ? null : failureOf(end)
  const finished = decision.status !== 'pending'
  await tx.q.run(sql`
    UPDATE steps SET status = ${decision.status}, exit_code = ${end.exitCode},
      stdout = ${end.stdout ?? null}, stderr = ${end.stderr ?? null},
      error = ${failure ? tx.d.json(failure.error) : null},
      termination_reason = ${failure && decision.status === 'failed' ? failure.reason : null},
      retry_count = ${decision.status === 'pending' ? decision.retryCount : Number(step.retry_count)},
      available_at = ${decision.status === 'pending' && isRunOpen(run.status) ? decision.availableAt : null},
      completed_at = ${finished ? now : null}, heartbeat_at = NULL, updated_at = ${now},
      -- a finished step keeps the worker that ran it, for the operator; a retry waits for a new one
      worker_id = ${finished ? sql`worker_id` : null}
    WHERE run_id = ${end.runId} AND step_id = ${end.stepId} AND attempt = ${end.attempt}`)

  const runRef = { id: end.runId, flowName: String(run.flow_name), status: String(run.status) }
  const stageSeq = Number(step.stage_seq)
  if (decision.status === 'completed') {
    await releaseDependents(tx, end.runId, end.stepId, isRunOpen(run.status), now)
    await settleStage(tx, runRef, stageSeq, now)
    return true
  }
  await writeLog(
    tx,
    end.runId,
    {
      entityType: 'step',
      entityId: end.stepId,
      level: decision.status === 'failed' ? 'error' : 'warn',
      message:
        decision.status === 'failed'
          ? `step ${end.stepId} failed (${failure?.reason})`
          : `step ${end.stepId} attempt ${end.attempt} failed (${failure?.reason}); retry ${decision.retryCount}`,
      metadata: failure?.error ?? null,
    },
    now,
  )
  if (decision.status === 'failed') {
    await failDependents(tx, end.runId, end.stepId, stageSeq, now)
    await settleStage(tx, runRef, stageSeq, now)
  }
  return true
}
