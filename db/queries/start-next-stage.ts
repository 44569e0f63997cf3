import { sql } from 'drizzle-orm'
import type { Tx } from './tx.js'

/**
 * Starts the run's first unsettled stage when it is still pending, and makes its steps whose
 * dependencies are complete claimable. Called after anything that can settle a stage or add one.
 * `claimable` is false while the run is paused: the stage starts, but its steps wait for resume.
 */
export async function startNextStage(tx: Tx, runId: string, claimable: boolean, now: number): Promise<void> {
  const next = await tx.q.all<{ seq: number; status: string }>(sql`
    SELECT seq, status FROM stages
    WHERE run_id = ${runId} AND status IN ('pending', 'running')
    ORDER BY seq LIMIT 1`)
  const stage = next[0]
  if (stage === undefined) return
  // The stage's start and its steps' release are sent together; a paused run only starts it.
  const [, released] = await Promise.all([
    stage.status === 'pending'
      ? tx.q.run(sql`
          UPDATE stages SET status = 'running', started_at = ${now}
          WHERE run_id = ${runId} AND seq = ${stage.seq}`)
      : 0,
    claimable
      ? tx.q.run(sql`
          UPDATE steps SET available_at = ${now}, updated_at = ${now}
          WHERE run_id = ${runId} AND stage_seq = ${stage.seq} AND status = 'pending'
            AND unmet_deps = 0 AND available_at IS NULL`)
      : 0,
  ])
  if (released > 0) tx.wake('work')
}
