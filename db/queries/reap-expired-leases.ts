import { sql } from 'drizzle-orm'
import type { Dialect } from '../sql-executor.js'
import { recordFlowExit } from './record-flow-exit.js'
import { recordStepExit } from './record-step-exit.js'
import { lockRun, type Tx } from './tx.js'
import { writeLog } from './write-log.js'

/** A lost flow call is re-queued this many times before the run fails. */
export const MAX_FLOW_CALL_ATTEMPTS = 3
const REAP_BATCH = 100

/**
 * Attempts whose lease was not renewed in `leaseMs` belong to a supervisor (or a host) that died.
 * A lost step attempt counts as a failed attempt (retried or failed per maxRetries); a lost flow
 * call is queued again, since re-posting a stage is idempotent. Each row is settled in its own
 * transaction through the same code path as an exit report, so a late report and the reaper
 * cannot both win: whichever comes second finds no running row with that attempt.
 */
export async function reapExpiredLeases(d: Dialect, now: number, leaseMs: number): Promise<number> {
  const expiredBefore = now - leaseMs
  const steps = await d.db.all<{ run_id: string; step_id: string; attempt: number }>(sql`
    SELECT run_id, step_id, attempt FROM steps
    WHERE status = 'running' AND heartbeat_at < ${expiredBefore} LIMIT ${REAP_BATCH}`)
  const calls = await d.db.all<{ id: number; run_id: string; attempt: number }>(sql`
    SELECT id, run_id, attempt FROM flow_calls
    WHERE status = 'running' AND heartbeat_at < ${expiredBefore} LIMIT ${REAP_BATCH}`)
  let reaped = 0
  for (const step of steps) {
    const end = {
      runId: step.run_id,
      stepId: step.step_id,
      attempt: Number(step.attempt),
      exitCode: null,
      leaseLost: true,
    }
    if (await d.transaction((q, wake) => recordStepExit({ q, d, wake }, end, now))) reaped++
  }
  for (const call of calls) {
    if (
      await d.transaction((q, wake) =>
        requeueFlowCall({ q, d, wake }, call.run_id, Number(call.id), Number(call.attempt), now),
      )
    ) {
      reaped++
    }
  }
  return reaped
}

async function requeueFlowCall(
  tx: Tx,
  runId: string,
  callId: number,
  attempt: number,
  now: number,
): Promise<boolean> {
  if ((await lockRun(tx, runId)) === null) return false
  if (attempt >= MAX_FLOW_CALL_ATTEMPTS) {
    return recordFlowExit(
      tx,
      { runId, callId, attempt, exitCode: null, stderr: 'maxq: flow call lease expired' },
      now,
    )
  }
  const changed = await tx.q.run(sql`
    UPDATE flow_calls SET status = 'queued', available_at = ${now}, worker_id = NULL, heartbeat_at = NULL
    WHERE id = ${callId} AND status = 'running' AND attempt = ${attempt}`)
  if (changed === 0) return false
  await writeLog(
    tx,
    runId,
    {
      entityType: 'flow',
      entityId: String(callId),
      level: 'warn',
      message: 'flow call lease expired; queued again',
    },
    now,
  )
  return true
}
