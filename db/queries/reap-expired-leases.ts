import { sql } from 'drizzle-orm'
import { decideLostAttempt } from '../rules/decide-attempt.js'
import type { FlowCallLease, ParsedLease } from '../rules/lease-key.js'
import type { Dialect } from '../sql-executor.js'
import { endRun } from './end-run.js'
import { closeOutlivedFlowCall } from './outlived-flow-call.js'
import { insertFlowCallAttempt, runningFlowCall } from './record-attempt.js'
import { recordLostStepAttempt } from './record-step-exit.js'
import { runningLeases } from './running-leases-of.js'
import { isRunActive, isRunOpen, lockRun, type Tx } from './tx.js'
import { writeLog } from './write-log.js'

const REAP_BATCH = 100

/**
 * Attempts whose lease was not renewed in `leaseMs` belong to a supervisor (or a host) that died:
 * they are reaped as lost (reapLostLeases).
 */
export async function reapExpiredLeases(
  d: Dialect,
  now: number,
  leaseMs: number,
  maxLostAttempts: number,
): Promise<number> {
  const leases = await runningLeases(d.db, sql`heartbeat_at < ${now - leaseMs}`, REAP_BATCH)
  return reapLostLeases(d, leases, now, maxLostAttempts)
}

/**
 * Reaps the given attempts as lost now, whatever their heartbeat says: the caller knows their
 * supervisor is gone (an expired lease, or a dead predecessor on this host). A lost attempt is not
 * the script's failure: it is kept in the attempt history as `lease_expired` and its step or flow
 * call is queued again, ahead of fresh work, without spending a retry, until more than
 * `maxLostAttempts` of its attempts were lost (then the step, or the flow call's run, fails with
 * `lost_attempts_exceeded`). A re-posted stage is idempotent, so a flow call may run again too.
 * Each lease is settled in its own transaction, fenced on its attempt like an exit report: a late
 * report and the reaper cannot both win, and a lease already ended or reaped is skipped.
 * Answers how many were reaped.
 */
export async function reapLostLeases(
  d: Dialect,
  leases: readonly ParsedLease[],
  now: number,
  maxLostAttempts: number,
): Promise<number> {
  let reaped = 0
  for (const lease of leases) {
    const done = await d.transaction((q, wake) =>
      lease.kind === 'step'
        ? recordLostStepAttempt({ q, d, wake }, lease, now, maxLostAttempts)
        : recordLostFlowCallAttempt({ q, d, wake }, lease, now, maxLostAttempts),
    )
    if (done) reaped++
  }
  return reaped
}

async function recordLostFlowCallAttempt(
  tx: Tx,
  lease: FlowCallLease,
  now: number,
  maxLostAttempts: number,
): Promise<boolean> {
  const run = await lockRun(tx, lease.runId)
  if (run === null) return false
  const running = runningFlowCall(lease.runId, lease.callId, lease.attempt)
  const rows = await tx.q.all<{ lost_attempts: number }>(sql`SELECT lost_attempts FROM ${running}`)
  const call = rows[0]
  if (call === undefined) return false
  await tx.q.run(insertFlowCallAttempt(running, { exitCode: null, terminationReason: 'lease_expired' }, now))
  if (!isRunActive(run.status)) {
    // It outlived its run (db/queries/outlived-flow-call.ts): an ended run calls nothing again.
    return closeOutlivedFlowCall(tx, lease.runId, lease.callId, lease.attempt, 'lease_expired', now)
  }
  const decision = decideLostAttempt(Number(call.lost_attempts), maxLostAttempts)
  if (decision.status === 'requeued') {
    // A paused run's calls stay queued (the claim skips runs that are not open), as new ones do.
    await tx.q.run(sql`
      UPDATE flow_calls SET status = 'queued', lost_attempts = ${decision.lostAttempts},
        available_at = ${decision.availableAt}, worker_id = NULL, heartbeat_at = NULL
      WHERE id = ${lease.callId} AND attempt = ${lease.attempt}`)
    if (isRunOpen(run.status)) tx.wake('work')
  } else {
    await tx.q.run(sql`
      UPDATE flow_calls SET status = 'failed', lost_attempts = ${decision.lostAttempts},
        termination_reason = 'lost_attempts_exceeded', completed_at = ${now}, heartbeat_at = NULL
      WHERE id = ${lease.callId} AND attempt = ${lease.attempt}`)
  }
  await writeLog(
    tx,
    lease.runId,
    {
      entityType: 'flow',
      entityId: String(lease.callId),
      level: decision.status === 'requeued' ? 'warn' : 'error',
      message:
        decision.status === 'requeued'
          ? `flow call ${lease.callId} attempt ${lease.attempt} lost (lease expired: its supervisor or host died); queued again (lost ${decision.lostAttempts} of at most ${maxLostAttempts})`
          : `flow call ${lease.callId} failed: ${decision.lostAttempts} attempts lost (lease expired), more than MAXQ_MAX_LOST_ATTEMPTS=${maxLostAttempts}`,
      metadata: { reason: 'lease_expired', attempt: lease.attempt, lostAttempts: decision.lostAttempts },
    },
    now,
  )
  if (decision.status === 'failed') {
    const error = {
      reason: 'lost_attempts_exceeded',
      flowCallId: lease.callId,
      lostAttempts: decision.lostAttempts,
    }
    await endRun(
      tx,
      lease.runId,
      { status: 'failed', terminationReason: 'lost_attempts_exceeded', error },
      now,
    )
  }
  return true
}
