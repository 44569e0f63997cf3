import { sql } from 'drizzle-orm'
import type { Tx } from './tx.js'

/** Queues a flow.sh invocation; the tick claims it like a step (so tick loops are woken). */
export async function queueFlowCall(
  tx: Tx,
  run: { id: string; flowName: string },
  stages: { completedStage: string | null; failedStage: string | null },
  now: number,
): Promise<void> {
  // Asked before the insert is answered, so that the NOTIFY can go out with a COMMIT sent behind it.
  tx.wake('work')
  await tx.q.run(sql`
    INSERT INTO flow_calls (run_id, flow_name, completed_stage, failed_stage, status, available_at, created_at)
    VALUES (${run.id}, ${run.flowName}, ${stages.completedStage}, ${stages.failedStage}, 'queued', ${now}, ${now})`)
}
