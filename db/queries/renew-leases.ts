import { sql } from 'drizzle-orm'
import { parseLease } from '../rules/lease-key.js'
import type { SqlExecutor } from '../sql-executor.js'

/**
 * A supervisor's heartbeat. Each lease is renewed only while its row is still running with the
 * same attempt; the ones that are not (aborted, reaped, the run failed) are answered as lost, and
 * the supervisor terminates their processes. Each statement commits on its own: a heartbeat holds
 * no locks across rows, so it cannot deadlock with a run-level transaction.
 */
export async function renewLeases(
  db: SqlExecutor,
  workerId: string,
  leases: string[],
  now: number,
): Promise<string[]> {
  const lost: string[] = []
  for (const lease of leases) {
    const parsed = parseLease(lease)
    if (parsed === null) {
      lost.push(lease)
      continue
    }
    const changed =
      parsed.kind === 'step'
        ? await db.run(sql`
            UPDATE steps SET heartbeat_at = ${now}, worker_id = ${workerId}
            WHERE run_id = ${parsed.runId} AND step_id = ${parsed.stepId}
              AND status = 'running' AND attempt = ${parsed.attempt}`)
        : await db.run(sql`
            UPDATE flow_calls SET heartbeat_at = ${now}, worker_id = ${workerId}
            WHERE id = ${parsed.callId} AND run_id = ${parsed.runId}
              AND status = 'running' AND attempt = ${parsed.attempt}`)
    if (changed === 0) lost.push(lease)
  }
  return lost
}
