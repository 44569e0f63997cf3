// A flow call that outlives its run. A run completes when its final stage does, which may be while
// the flow.sh call that scheduled that stage is still running: end-run leaves the call running,
// renew-leases lets it run until MAXQ_ABORT_GRACE_MS after the run's end and then marks it
// `run_ended` so that its supervisor terminates it. Whatever becomes of it is recorded on the call
// and logged; it never changes the ended run.

import { sql, type SQL } from 'drizzle-orm'
import type { LogLevel } from '../types.js'
import type { Tx } from './tx.js'
import { logStatement, writeLog } from './write-log.js'

/** The call was still running MAXQ_ABORT_GRACE_MS after its run completed, and was terminated. */
export const RUN_ENDED = 'run_ended'
/** The completed run was aborted while the call was still running, and it was terminated. */
export const ABORTED = 'aborted'

/** What a call's exit report wrote, for the log line of an exit that came after its run ended. */
export interface LateExit {
  callId: number
  runStatus: string
  exitCode: number | null
  signal: string | null
  /** Why it was told to stop (RUN_ENDED, ABORTED); null when it ended by itself. */
  terminationReason: string | null
}

/**
 * The log line of an exit recorded after the run ended: info for exit 0, warn otherwise. The call
 * row itself was written by recordFlowExit (its real exit code and output; `cancelled` with
 * with its reason when it was told to stop), and the run keeps its status.
 */
export function lateExitLog(tx: Tx, runId: string, exit: LateExit, now: number): SQL {
  const how =
    exit.exitCode !== null ? `exited ${exit.exitCode}` : `was killed by ${exit.signal ?? 'a signal'}`
  const terminated = exit.terminationReason !== null
  const why =
    exit.terminationReason === RUN_ENDED
      ? `was still running MAXQ_ABORT_GRACE_MS after the run ${exit.runStatus}, so it was terminated`
      : `was terminated (${String(exit.terminationReason)}) after the run ${exit.runStatus}`
  const message = terminated
    ? `flow call ${exit.callId} ${why}; it ${how}`
    : `flow call ${exit.callId} ${how} after the run ${exit.runStatus}; the run stays ${exit.runStatus}`
  const level: LogLevel = !terminated && exit.exitCode === 0 ? 'info' : 'warn'
  return logStatement(
    tx,
    runId,
    {
      entityType: 'flow',
      entityId: String(exit.callId),
      level,
      message,
      metadata: { exitCode: exit.exitCode, signal: exit.signal, terminationReason: exit.terminationReason },
    },
    now,
  )
}

/**
 * A running call of a run that has ended, whose exit will not be reported (its supervisor died:
 * `lease_expired`; or its worker stopped and hands it back: `worker_stopped`). It cannot be called
 * again, the run being over: it is closed as `cancelled` with that reason. Answers false when the
 * call was no longer running with this attempt.
 */
export async function closeOutlivedFlowCall(
  tx: Tx,
  runId: string,
  callId: number,
  attempt: number,
  reason: 'lease_expired' | 'worker_stopped',
  now: number,
): Promise<boolean> {
  const changed = await tx.q.run(sql`
    UPDATE flow_calls SET status = 'cancelled', termination_reason = ${reason}, completed_at = ${now},
      worker_id = NULL, heartbeat_at = NULL
    WHERE id = ${callId} AND run_id = ${runId} AND status = 'running' AND attempt = ${attempt}`)
  if (changed === 0) return false
  const why = reason === 'lease_expired' ? 'its lease expired' : 'its worker stopped'
  await writeLog(
    tx,
    runId,
    {
      entityType: 'flow',
      entityId: String(callId),
      level: 'warn',
      message: `flow call ${callId} outlived its run and ${why}; it is cancelled (${reason})`,
    },
    now,
  )
  return true
}

/**
 * An abort of a run that has completed: its flow calls still running are marked ABORTED now, so
 * their next heartbeat (woken at once where it can be) answers them lost and their supervisors
 * terminate them, without waiting for the rest of the grace. Answers how many were told.
 */
export async function stopOutlivedFlowCalls(tx: Tx, runId: string, now: number): Promise<number> {
  const told = await tx.q.all<{ id: number }>(sql`
    UPDATE flow_calls SET termination_reason = ${ABORTED}
    WHERE run_id = ${runId} AND status = 'running' AND termination_reason IS NULL
    RETURNING id`)
  if (told.length === 0) return 0
  tx.q.beforeCommit(
    told.map((call) =>
      logStatement(
        tx,
        runId,
        {
          entityType: 'flow',
          entityId: String(call.id),
          level: 'warn',
          message: `flow call ${String(call.id)} outlived its run and the run was aborted; it is terminated`,
        },
        now,
      ),
    ),
  )
  tx.wake('abort')
  return told.length
}
