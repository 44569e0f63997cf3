import { sql, type SQL } from 'drizzle-orm'
import type { Tx } from './tx.js'

/**
 * Queues a flow.sh invocation; the tick claims it like a step (so tick loops are woken). A
 * statement, for the tail of the transaction that queues it: nothing needs its answer.
 */
export function queueFlowCall(
  tx: Tx,
  run: { id: string; flowName: string },
  stages: { completedStage: string | null; failedStage: string | null },
  now: number,
): SQL {
  tx.wake('work')
  return sql`
    INSERT INTO flow_calls (run_id, flow_name, completed_stage, failed_stage, status, available_at, created_at)
    VALUES (${run.id}, ${run.flowName}, ${stages.completedStage}, ${stages.failedStage}, 'queued', ${now}, ${now})`
}
