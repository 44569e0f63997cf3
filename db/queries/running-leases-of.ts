import { sql } from 'drizzle-orm'
import type { ParsedLease } from '../rules/lease-key.js'
import type { SqlExecutor } from '../sql-executor.js'

/**
 * The attempts one worker holds: its running steps and flow calls (a claim and every heartbeat
 * write the worker's id on the row). Asked only for a worker known dead on its host
 * (scheduler/recover-dead-supervisors.ts), to hand back what it claimed and never started.
 */
export async function runningLeasesOf(db: SqlExecutor, workerId: string): Promise<ParsedLease[]> {
  const steps = await db.all<{ run_id: string; step_id: string; attempt: number }>(sql`
    SELECT run_id, step_id, attempt FROM steps WHERE status = 'running' AND worker_id = ${workerId}`)
  const calls = await db.all<{ id: number; run_id: string; attempt: number }>(sql`
    SELECT id, run_id, attempt FROM flow_calls WHERE status = 'running' AND worker_id = ${workerId}`)
  return [
    ...steps.map((row) => ({
      kind: 'step' as const,
      runId: String(row.run_id),
      stepId: String(row.step_id),
      attempt: Number(row.attempt),
    })),
    ...calls.map((row) => ({
      kind: 'flow' as const,
      runId: String(row.run_id),
      callId: Number(row.id),
      attempt: Number(row.attempt),
    })),
  ]
}
