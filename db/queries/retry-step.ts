import { sql } from 'drizzle-orm'
import { fail, ok, type Outcome } from '../types.js'
import { refreshReadiness } from './refresh-readiness.js'
import { isRunActive, isRunOpen, lockRun, type Tx } from './tx.js'
import { writeLog } from './write-log.js'

/**
 * Retries one failed step with fresh retries. What its failure closed opens again: steps failed
 * as its dependents, steps and stages cancelled after it; and a failed run runs again.
 */
export async function retryStep(tx: Tx, runId: string, stepId: string, now: number): Promise<Outcome<null>> {
  const run = await lockRun(tx, runId)
  if (run === null) return fail('RUN_NOT_FOUND', { runId })
  const steps = await tx.q.all<{ status: string }>(sql`
    SELECT status FROM steps WHERE run_id = ${runId} AND step_id = ${stepId}`)
  const step = steps[0]
  if (step === undefined) return fail('STEP_NOT_FOUND', { runId, stepId })
  if (step.status !== 'failed') return fail('STEP_NOT_FAILED', { runId, stepId, status: step.status })
  if (run.termination_reason === 'aborted')
    return fail('INVALID_STATE', { runId, reason: 'run was aborted; retry the run' })

  await tx.q.run(sql`
    UPDATE steps SET status = 'pending', retry_count = 0, lost_attempts = 0, exit_code = NULL, error = NULL,
      termination_reason = NULL, started_at = NULL, completed_at = NULL, worker_id = NULL,
      heartbeat_at = NULL, available_at = NULL, updated_at = ${now}
    WHERE run_id = ${runId} AND (step_id = ${stepId} OR status = 'cancelled'
      OR (status = 'failed' AND termination_reason = 'dependency_failed'))`)
  await tx.q.run(sql`
    UPDATE stages SET status = 'pending', started_at = NULL, completed_at = NULL
    WHERE run_id = ${runId} AND status IN ('failed', 'cancelled')
      AND seq IN (SELECT stage_seq FROM steps WHERE run_id = ${runId} AND status = 'pending')`)
  if (!isRunActive(run.status)) {
    await tx.q.run(sql`
      UPDATE runs SET status = 'running', error = NULL, termination_reason = NULL, completed_at = NULL,
        updated_at = ${now}
      WHERE id = ${runId}`)
  }
  await refreshReadiness(tx, runId, isRunOpen(run.status) || !isRunActive(run.status), now)
  await writeLog(
    tx,
    runId,
    { entityType: 'step', entityId: stepId, level: 'info', message: `step ${stepId} retried` },
    now,
  )
  return ok(null)
}
