import { sql } from 'drizzle-orm'
import { chunks, list, type Tx } from './tx.js'

/** A step completed: its dependents have one unmet dependency fewer; those at zero become claimable. */
export async function releaseDependents(
  tx: Tx,
  runId: string,
  stepId: string,
  claimable: boolean,
  now: number,
): Promise<void> {
  // One primary-key lookup; most steps of a fan-out have no dependents and stop here.
  const rows = await tx.q.all<{ step_id: string }>(sql`
    SELECT step_id FROM step_dependencies WHERE run_id = ${runId} AND depends_on = ${stepId}`)
  if (rows.length === 0) return
  for (const part of chunks(
    rows.map((row) => row.step_id),
    500,
  )) {
    await tx.q.run(sql`
      UPDATE steps SET unmet_deps = unmet_deps - 1, updated_at = ${now}
      WHERE run_id = ${runId} AND status = 'pending' AND step_id IN (${list(part)})`)
    if (!claimable) continue
    await tx.q.run(sql`
      UPDATE steps SET available_at = ${now}
      WHERE run_id = ${runId} AND status = 'pending' AND unmet_deps = 0 AND available_at IS NULL
        AND step_id IN (${list(part)})
        AND stage_seq IN (SELECT seq FROM stages WHERE run_id = ${runId} AND status = 'running')`)
  }
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
      for (const row of rows) next.push(row.step_id)
    }
    frontier = next
  }
  await tx.q.run(sql`
    UPDATE steps SET status = 'cancelled', termination_reason = 'stage_failed', available_at = NULL,
      completed_at = ${now}, updated_at = ${now}
    WHERE run_id = ${runId} AND stage_seq = ${stageSeq} AND status = 'pending'`)
}
