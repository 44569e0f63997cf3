import { sql, type SQL } from 'drizzle-orm'
import type { ParsedLease } from '../rules/lease-key.js'
import type { SqlExecutor } from '../sql-executor.js'

/**
 * The running step and flow-call attempts whose row matches `where` (a condition on columns both
 * tables have: worker_id, heartbeat_at), as leases, at most `limit` of each.
 */
export async function runningLeases(db: SqlExecutor, where: SQL, limit?: number): Promise<ParsedLease[]> {
  const cap = limit === undefined ? sql`` : sql`LIMIT ${limit}`
  const steps = await db.all<{ run_id: string; step_id: string; attempt: number }>(sql`
    SELECT run_id, step_id, attempt FROM steps WHERE status = 'running' AND ${where} ${cap}`)
  const calls = await db.all<{ id: number; run_id: string; attempt: number }>(sql`
    SELECT id, run_id, attempt FROM flow_calls WHERE status = 'running' AND ${where} ${cap}`)
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

/**
 * The attempts one worker holds: its running steps and flow calls (a claim and every heartbeat
 * write the worker's id on the row). Asked only for a worker known dead on its host
 * (scheduler/recover-dead-supervisors.ts), to hand back what it claimed and never started.
 */
export function runningLeasesOf(db: SqlExecutor, workerId: string): Promise<ParsedLease[]> {
  return runningLeases(db, sql`worker_id = ${workerId}`)
}
