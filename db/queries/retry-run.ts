import { sql } from 'drizzle-orm'
import { fail, ok, type Outcome, type RunWithStages } from '../types.js'
import { mapRun, mapStage, type Row } from './map-rows.js'
import { queueFlowCall } from './queue-flow-call.js'
import { refreshReadiness } from './refresh-readiness.js'
import { lockRun, type Tx } from './tx.js'
import { writeLog } from './write-log.js'

/**
 * Resumes a failed (or aborted) run: failed and cancelled steps and stages go back to pending
 * with fresh retries, completed steps keep their results and do not run again. When no stage is
 * left to run (the flow itself had failed), the flow is called again after its last completed stage.
 *
 * The run is first reset to `pending` (error, terminationReason and completedAt cleared), and that
 * row is the answer, as the original MaxQ answers a retry. What follows in the same transaction
 * moves it on: a reopened stage starts at once, so a run that had started is `running` again when
 * the retry commits; a run whose flow is called again stays `pending` until that call is claimed,
 * as after a trigger. The stages in the answer are as the retry leaves them.
 */
export async function retryRun(tx: Tx, runId: string, now: number): Promise<Outcome<RunWithStages>> {
  const run = await lockRun(tx, runId)
  if (run === null) return fail('RUN_NOT_FOUND', { runId })
  if (run.status === 'completed') return fail('RUN_COMPLETED', { runId, status: 'completed' })
  if (run.status !== 'failed') return fail('RUN_STILL_RUNNING', { runId, status: String(run.status) })

  const [reset] = await tx.q.all<Row>(sql`
    UPDATE runs SET status = 'pending', error = NULL, termination_reason = NULL, completed_at = NULL,
      updated_at = ${now}
    WHERE id = ${runId}
    RETURNING *`)
  await tx.q.run(sql`
    UPDATE steps SET status = 'pending', retry_count = 0, lost_attempts = 0, exit_code = NULL, error = NULL,
      termination_reason = NULL, started_at = NULL, completed_at = NULL, worker_id = NULL,
      heartbeat_at = NULL, available_at = NULL, updated_at = ${now}
    WHERE run_id = ${runId} AND status IN ('failed', 'cancelled')`)
  const reopened = await tx.q.run(sql`
    UPDATE stages SET status = 'pending', started_at = NULL, completed_at = NULL
    WHERE run_id = ${runId} AND status IN ('failed', 'cancelled')`)
  await refreshReadiness(tx, runId, true, now)
  if (reopened > 0 && run.started_at !== null) {
    await tx.q.run(sql`UPDATE runs SET status = 'running', updated_at = ${now} WHERE id = ${runId}`)
  }
  if (reopened === 0) {
    const last = await tx.q.all<{ name: string }>(sql`
      SELECT name FROM stages WHERE run_id = ${runId} AND status = 'completed' ORDER BY seq DESC LIMIT 1`)
    await tx.q.run(
      queueFlowCall(
        tx,
        { id: runId, flowName: String(run.flow_name) },
        { completedStage: last[0]?.name ?? null, failedStage: null },
        now,
      ),
    )
  }
  await writeLog(
    tx,
    runId,
    { entityType: 'run', entityId: runId, level: 'info', message: 'run retried' },
    now,
  )
  const stages = await tx.q.all<Row>(sql`SELECT * FROM stages WHERE run_id = ${runId} ORDER BY seq`)
  return ok({ ...mapRun(reset!), stages: stages.map(mapStage) })
}
