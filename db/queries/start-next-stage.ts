import { sql } from 'drizzle-orm'
import type { Tx } from './tx.js'

/**
 * Starts the run's first unsettled stage when it is still pending, and makes its steps whose
 * dependencies are complete claimable. Called after anything that can settle a stage or add one.
 * `claimable` is false while the run is paused: the stage starts, but its steps wait for resume.
 *
 * Both statements find the stage themselves, so neither waits for an answer: on PostgreSQL they
 * travel with whatever the caller sends alongside, one round trip in all. The second runs after
 * the first and finds the same stage, which is then running.
 */
export async function startNextStage(tx: Tx, runId: string, claimable: boolean, now: number): Promise<void> {
  const nextSeq = sql`(
    SELECT MIN(seq) FROM stages WHERE run_id = ${runId} AND status IN ('pending', 'running'))`
  const [, released] = await Promise.all([
    tx.q.run(sql`
      UPDATE stages SET status = 'running', started_at = ${now}
      WHERE run_id = ${runId} AND seq = ${nextSeq} AND status = 'pending'`),
    claimable
      ? tx.q.run(sql`
          UPDATE steps SET available_at = ${now}, updated_at = ${now}
          WHERE run_id = ${runId} AND stage_seq = ${nextSeq} AND status = 'pending'
            AND unmet_deps = 0 AND available_at IS NULL`)
      : 0,
  ])
  if (released > 0) tx.wake('work')
}
