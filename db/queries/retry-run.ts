import { sql } from 'drizzle-orm'
import { fail, ok, type Outcome } from '../types.js'
import { queueFlowCall } from './queue-flow-call.js'
import { refreshReadiness } from './refresh-readiness.js'
import { lockRun, type Tx } from './tx.js'
import { writeLog } from './write-log.js'

/**
 * Resumes a failed (or aborted) run: failed and cancelled steps and stages go back to pending
 * with fresh retries, completed steps keep their results and do not run again. When no stage is
 * left to run (the flow itself had failed), the flow is called again after its last completed stage.
 */
export async function retryRun(tx: Tx, runId: string, now: number): Promise<Outcome<null>> {
  const run = await lockRun(tx, runId)
  if (run === null) return fail('RUN_NOT_FOUND', { runId })
  if (run.status === 'completed') return fail('RUN_COMPLETED', { runId, status: 'completed' })
  if (run.status !== 'failed') return fail('RUN_STILL_RUNNING', { runId, status: String(run.status) })

  await tx.q.run(sql`
    UPDATE steps SET status = 'pending', retry_count = 0, exit_code = NULL, error = NULL,
      termination_reason = NULL, started_at = NULL, completed_at = NULL, worker_id = NULL,
      heartbeat_at = NULL, available_at = NULL, updated_at = ${now}
    WHERE run_id = ${runId} AND status IN ('failed', 'cancelled')`)
  const reopened = await tx.q.run(sql`
    UPDATE stages SET status = 'pending', started_at = NULL, completed_at = NULL
    WHERE run_id = ${runId} AND status IN ('failed', 'cancelled')`)
  await tx.q.run(sql`
    UPDATE runs SET status = ${run.started_at === null ? 'pending' : 'running'}, error = NULL,
      termination_reason = NULL, completed_at = NULL, updated_at = ${now}
    WHERE id = ${runId}`)
  await refreshReadiness(tx, runId, true, now)
  if (reopened === 0) {
    const last = await tx.q.all<{ name: string }>(sql`
      SELECT name FROM stages WHERE run_id = ${runId} AND status = 'completed' ORDER BY seq DESC LIMIT 1`)
    await queueFlowCall(
      tx,
      { id: runId, flowName: String(run.flow_name) },
      { completedStage: last[0]?.name ?? null, failedStage: null },
      now,
    )
  }
  await writeLog(
    tx,
    runId,
    { entityType: 'run', entityId: runId, level: 'info', message: 'run retried' },
    now,
  )
  return ok(null)
}
