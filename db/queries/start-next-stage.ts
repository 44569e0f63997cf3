import { sql, type SQL } from 'drizzle-orm'
import type { Tx } from './tx.js'

/**
 * Starts the run's first unsettled stage when it is still pending, and makes its steps whose
 * dependencies are complete claimable. Called after anything that can settle a stage or add one.
 * `claimable` is false while the run is paused: the stage starts, but its steps wait for resume.
 *
 * Two statements that find the stage themselves, so neither needs an answer: the caller sends them
 * in a pipeline or in its transaction's tail, in this order (the second finds the same stage, then
 * running). It wakes tick loops whenever the steps could be released: a stage that starts has
 * claimable steps unless every one waits on a dependency.
 */
export function startNextStage(tx: Tx, runId: string, claimable: boolean, now: number): SQL[] {
  const nextSeq = sql`(
    SELECT MIN(seq) FROM stages WHERE run_id = ${runId} AND status IN ('pending', 'running'))`
  const start = sql`
    UPDATE stages SET status = 'running', started_at = ${now}
    WHERE run_id = ${runId} AND seq = ${nextSeq} AND status = 'pending'`
  if (!claimable) return [start]
  tx.wake('work')
  return [
    start,
    sql`
      UPDATE steps SET available_at = ${now}, updated_at = ${now}
      WHERE run_id = ${runId} AND stage_seq = ${nextSeq} AND status = 'pending'
        AND unmet_deps = 0 AND available_at IS NULL`,
  ]
}
