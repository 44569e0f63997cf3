import { sql } from 'drizzle-orm'
import { parseLease } from '../rules/lease-key.js'
import type { SqlExecutor } from '../sql-executor.js'
import { RUN_ENDED } from './outlived-flow-call.js'

/**
 * A supervisor's heartbeat. Each lease is renewed only while its row is still running with the
 * same attempt; the ones that are not (aborted, reaped, the run failed) are answered as lost, and
 * the supervisor terminates their processes. Each statement commits on its own: a heartbeat holds
 * no locks across rows, so it cannot deadlock with a run-level transaction.
 *
 * A flow call still running after its run completed (end-run leaves it be) is renewed until
 * `runEndGraceMs` after the run's end, so that it may finish and its own exit is recorded. From
 * then on it is marked `run_ended` and answered as lost, so its supervisor terminates it; its
 * heartbeat is still renewed, since the supervisor is alive and will report the exit (the reaper
 * must not take it for a dead one meanwhile). Heartbeats come every HEARTBEAT_INTERVAL_MS, so the
 * call is told at most that much after the grace.
 */
export async function renewLeases(
  db: SqlExecutor,
  workerId: string,
  leases: string[],
  now: number,
  runEndGraceMs: number,
): Promise<string[]> {
  const lost: string[] = []
  for (const lease of leases) {
    const parsed = parseLease(lease)
    if (parsed === null) {
      lost.push(lease)
      continue
    }
    if (parsed.kind === 'step') {
      const changed = await db.run(sql`
        UPDATE steps SET heartbeat_at = ${now}, worker_id = ${workerId}
        WHERE run_id = ${parsed.runId} AND step_id = ${parsed.stepId}
          AND status = 'running' AND attempt = ${parsed.attempt}`)
      if (changed === 0) lost.push(lease)
      continue
    }
    const renewed = await db.all<{ termination_reason: string | null }>(sql`
      UPDATE flow_calls SET heartbeat_at = ${now}, worker_id = ${workerId},
        termination_reason = CASE WHEN EXISTS (
            SELECT 1 FROM runs
            WHERE id = ${parsed.runId} AND status = 'completed' AND completed_at <= ${now - runEndGraceMs})
          THEN ${RUN_ENDED} ELSE termination_reason END
      WHERE id = ${parsed.callId} AND run_id = ${parsed.runId}
        AND status = 'running' AND attempt = ${parsed.attempt}
      RETURNING termination_reason`)
    // A reason on a running call means it was told to stop (the grace is over, or an abort).
    if (renewed.length === 0 || (renewed[0]?.termination_reason ?? null) !== null) lost.push(lease)
  }
  return lost
}
