import { sql } from 'drizzle-orm'
import { startNextStage } from './start-next-stage.js'
import type { Tx } from './tx.js'

/**
 * Recounts every pending step's unmet dependencies and starts the next stage. Used after a retry
 * or a resume, where many steps change at once; the hot path keeps the counts incrementally.
 */
export async function refreshReadiness(
  tx: Tx,
  runId: string,
  claimable: boolean,
  now: number,
): Promise<void> {
  await tx.q.run(sql`
    UPDATE steps SET available_at = NULL, updated_at = ${now},
      unmet_deps = (
        SELECT COUNT(*) FROM step_dependencies sd
        JOIN steps dep ON dep.run_id = sd.run_id AND dep.step_id = sd.depends_on
        WHERE sd.run_id = steps.run_id AND sd.step_id = steps.step_id AND dep.status <> 'completed')
    WHERE run_id = ${runId} AND status = 'pending'`)
  await tx.q.pipeline(startNextStage(tx, runId, claimable, now))
}
