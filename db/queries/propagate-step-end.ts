import { sql, type SQL } from 'drizzle-orm'
import type { SystemLine } from '../sql-executor.js'
import { chunks, list, type Tx } from './tx.js'

/**
 * A step completed: its dependents have one unmet dependency fewer; those at zero become claimable
 * while the run is open. The statement, found by key (most steps of a fan-out have no dependents,
 * and it changes nothing), for the caller to send only once the step's own update matched: on
 * SQLite after its answer, on PostgreSQL in the same statement, guarded by `onlyIf` (a repeated
 * report must release nothing: a count taken down twice would start a dependent before its other
 * dependencies end). Answers `available_at` of each dependent it changed.
 */
export function releaseDependents(tx: Tx, runId: string, stepId: string, now: number, onlyIf = sql``): SQL {
  // SET expressions read the row as it was, so `unmet_deps = 1` means "this was the last one". The
  // run row is locked by this transaction, so reading its status here is reading it under the lock.
  return sql`
    UPDATE steps SET unmet_deps = unmet_deps - 1, updated_at = ${now},
      available_at = CASE WHEN unmet_deps = 1 AND available_at IS NULL
          AND stage_seq IN (SELECT seq FROM stages WHERE run_id = ${runId} AND status = 'running')
          AND (SELECT status FROM runs WHERE id = ${runId}) IN ('pending', 'running')
        THEN ${now} ELSE available_at END
    WHERE run_id = ${runId} AND status = 'pending' AND ${dependentOf(tx, runId, stepId)}
      ${onlyIf}
    RETURNING available_at`
}

/**
 * `step_id` is one of the step's dependents. PostgreSQL gets them as an array, read first: as
 * `IN (SELECT …)`, a plan made while the tables had no statistics (a new database, whose plans
 * force_generic_plan keeps until the tables are analyzed) joined every pending step of the run
 * with the dependencies on each end, 4,106 buffers in a stage of 2,000 steps; as an array, 108
 * without statistics and a lookup by id with them.
 */
function dependentOf(tx: Tx, runId: string, stepId: string): SQL {
  const dependents = sql`SELECT step_id FROM step_dependencies WHERE run_id = ${runId} AND depends_on = ${stepId}`
  return tx.d.name === 'postgres' ? sql`step_id = ANY(ARRAY(${dependents}))` : sql`step_id IN (${dependents})`
}

/**
 * A step failed for good: every step that depends on it, directly or not, fails without running
 * (`dependency_failed`, naming the step that failed), and the other pending steps of its stage are
 * cancelled. Answers nothing; the caller settles the stage next.
 */
export async function failDependents(
  tx: Tx,
  runId: string,
  failedStep: string,
  stageSeq: number,
  now: number,
): Promise<void> {
  const error = tx.d.json({ reason: 'dependency_failed', failedStep })
  let frontier = [failedStep]
  while (frontier.length > 0) {
    const next: string[] = []
    for (const part of chunks(frontier, 500)) {
      const rows = await tx.q.all<{ step_id: string }>(sql`
        UPDATE steps SET status = 'failed', error = ${error}, termination_reason = 'dependency_failed',
          available_at = NULL, completed_at = ${now}, updated_at = ${now}
        WHERE run_id = ${runId} AND status = 'pending' AND step_id IN (
          SELECT step_id FROM step_dependencies WHERE run_id = ${runId} AND depends_on IN (${list(part)}))
        RETURNING step_id`)
      for (const row of rows) {
        next.push(row.step_id)
        tx.q.systemLog(dependencyFailed(runId, row.step_id, failedStep))
      }
    }
    frontier = next
  }
  await tx.q.run(sql`
    UPDATE steps SET status = 'cancelled', termination_reason = 'stage_failed', available_at = NULL,
      completed_at = ${now}, updated_at = ${now}
    WHERE run_id = ${runId} AND stage_seq = ${stageSeq} AND status = 'pending'`)
}

function dependencyFailed(runId: string, step: string, failedStep: string): SystemLine {
  return {
    event: 'step_failed',
    runId,
    flow: null,
    step,
    attempt: null,
    reason: 'dependency_failed',
    exitCode: null,
    signal: null,
    failedStep,
    retry: null,
    requeued: false,
  }
}
