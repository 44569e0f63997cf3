import { sql } from 'drizzle-orm'
import { LOST_WORK_AVAILABLE_AT } from '../rules/decide-attempt.js'
import { parseLease } from '../rules/lease-key.js'
import { closeOutlivedFlowCall } from './outlived-flow-call.js'
import { insertFlowCallAttempt, insertStepAttempt, runningFlowCall, runningStep } from './record-attempt.js'
import { isRunActive, isRunOpen, lockRun, type Tx } from './tx.js'
import { writeLog } from './write-log.js'

/**
 * A worker that stops cleanly hands its running attempts back: the step is claimable again with
 * its retries untouched (the next claim bumps the attempt, so the old process's late report is
 * stale), a flow call is queued again (re-posting a stage is idempotent). Both go to the front of
 * the queue, as lost work does, and the attempt is kept in the history as `worker_stopped`.
 */
export async function releaseLease(tx: Tx, lease: string, now: number): Promise<boolean> {
  const parsed = parseLease(lease)
  if (parsed === null) return false
  const run = await lockRun(tx, parsed.runId)
  if (run === null) return false
  const stopped = { exitCode: null, terminationReason: 'worker_stopped' }
  await tx.q.run(
    parsed.kind === 'step'
      ? insertStepAttempt(runningStep(parsed.runId, parsed.stepId, parsed.attempt), stopped, now)
      : insertFlowCallAttempt(runningFlowCall(parsed.runId, parsed.callId, parsed.attempt), stopped, now),
  )
  if (parsed.kind === 'flow' && !isRunActive(run.status)) {
    // It outlived its run (db/queries/outlived-flow-call.ts): an ended run calls nothing again.
    return closeOutlivedFlowCall(tx, parsed.runId, parsed.callId, parsed.attempt, 'worker_stopped', now)
  }
  const changed =
    parsed.kind === 'step'
      ? await tx.q.run(sql`
          UPDATE steps SET status = 'pending',
            available_at = ${isRunOpen(run.status) ? LOST_WORK_AVAILABLE_AT : null},
            worker_id = NULL, heartbeat_at = NULL, started_at = NULL, updated_at = ${now}
          WHERE run_id = ${parsed.runId} AND step_id = ${parsed.stepId}
            AND status = 'running' AND attempt = ${parsed.attempt}`)
      : await tx.q.run(sql`
          UPDATE flow_calls SET status = 'queued', available_at = ${LOST_WORK_AVAILABLE_AT}, worker_id = NULL,
            heartbeat_at = NULL
          WHERE id = ${parsed.callId} AND run_id = ${parsed.runId}
            AND status = 'running' AND attempt = ${parsed.attempt}`)
  if (changed === 0) return false
  const entity =
    parsed.kind === 'step'
      ? { entityType: 'step', entityId: parsed.stepId }
      : { entityType: 'flow', entityId: String(parsed.callId) }
  await writeLog(
    tx,
    parsed.runId,
    { ...entity, level: 'warn', message: 'worker stopped; attempt handed back to run again' },
    now,
  )
  return true
}
