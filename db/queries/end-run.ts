import { sql } from 'drizzle-orm'
import type { Json } from '../types.js'
import { insertFlowCallAttempt, insertStepAttempt } from './record-attempt.js'
import { runEndedLine } from './system-lines.js'
import type { Tx } from './tx.js'
import { logStatement } from './write-log.js'

export interface RunEnding {
  status: 'completed' | 'failed'
  /** Why the run ended early: `aborted`, `flow_failed`, `stage_failed`… */
  terminationReason?: string
  error?: Json
  /** What pending steps become: cancelled when the run fails, failed when it is aborted. */
  pendingStepsBecome?: 'cancelled' | 'failed'
}

/**
 * Ends a run and closes all of its open work. Running attempts are marked failed here; their
 * supervisors learn it from the next heartbeat (the lease is lost) and terminate the processes.
 * A run that completes leaves a flow call that is still running alone (it scheduled the final
 * stage and has a little more to do): its own exit is recorded when it comes, and renew-leases
 * ends it MAXQ_ABORT_GRACE_MS after the run did. Answers how many running processes were told to
 * stop.
 */
export async function endRun(tx: Tx, runId: string, ending: RunEnding, now: number): Promise<number> {
  const reason = ending.terminationReason ?? null
  const completing = ending.status === 'completed'
  const pendingBecome = ending.pendingStepsBecome ?? 'cancelled'
  // One pipeline (db/sql-executor.ts): the statements run in the order written, each with its own
  // snapshot when it starts. Pending before running: on PostgreSQL a concurrent claim (which does
  // not take the run lock) may hold a pending step; the first statement waits for it and then skips
  // the step, now running. The second, starting after, sees it running and fails it. In the other
  // order such a step would be left running in an ended run. Queued calls before running ones, for
  // the same reason.
  // The attempts it stops are kept in the history, ended by the run (`aborted`…), before they are.
  const stoppedAttempt = { exitCode: null, terminationReason: reason ?? 'run_ended' }
  const [, , runningSteps = [], , , , runningCalls = [], ended = []] = await tx.q.pipeline([
    sql`
      UPDATE steps SET status = ${pendingBecome}, termination_reason = ${reason}, available_at = NULL,
        completed_at = ${now}, updated_at = ${now}
      WHERE run_id = ${runId} AND status = 'pending'`,
    insertStepAttempt(sql`steps WHERE run_id = ${runId} AND status = 'running'`, stoppedAttempt, now),
    sql`
      UPDATE steps SET status = 'failed', termination_reason = ${reason}, completed_at = ${now},
        error = ${tx.d.json({ reason: reason ?? 'run_ended' })}, worker_id = NULL, updated_at = ${now}
      WHERE run_id = ${runId} AND status = 'running'
      RETURNING id`,
    sql`
      UPDATE stages SET status = CASE WHEN status = 'running' THEN 'failed' ELSE 'cancelled' END, completed_at = ${now}
      WHERE run_id = ${runId} AND status IN ('pending', 'running')`,
    sql`
      UPDATE flow_calls SET status = 'cancelled', termination_reason = ${reason}, available_at = NULL,
        completed_at = ${now}
      WHERE run_id = ${runId} AND status = 'queued'`,
    completing
      ? sql`SELECT 1 AS skipped WHERE 1 = 0`
      : insertFlowCallAttempt(
          sql`flow_calls WHERE run_id = ${runId} AND status = 'running'`,
          stoppedAttempt,
          now,
        ),
    completing
      ? sql`SELECT id FROM flow_calls WHERE run_id = ${runId} AND status = 'running'`
      : sql`
          UPDATE flow_calls SET status = 'failed', termination_reason = ${reason}, completed_at = ${now},
            worker_id = NULL
          WHERE run_id = ${runId} AND status = 'running'
          RETURNING id`,
    sql`
      UPDATE runs SET status = ${ending.status}, termination_reason = ${reason},
        error = ${ending.error === undefined ? null : tx.d.json(ending.error)}, completed_at = ${now}, updated_at = ${now}
      WHERE id = ${runId}
      RETURNING flow_name, started_at, created_at`,
    logStatement(
      tx,
      runId,
      {
        entityType: 'run',
        entityId: runId,
        level: ending.status === 'completed' ? 'info' : 'error',
        message: reason ? `run ${ending.status} (${reason})` : `run ${ending.status}`,
        metadata: ending.error,
      },
      now,
    ),
  ])
  if (completing) {
    tx.q.beforeCommit(
      runningCalls.map((call) =>
        logStatement(
          tx,
          runId,
          {
            entityType: 'flow',
            entityId: String(call.id),
            level: 'info',
            message: `flow call ${String(call.id)} is still running; it may finish within MAXQ_ABORT_GRACE_MS of the run's end, and is terminated after that`,
          },
          now,
        ),
      ),
    )
  }
  tx.q.systemLog(runEndedLine(runId, ending, ended[0], now))
  const stopped = runningSteps.length + (completing ? 0 : runningCalls.length)
  // Their supervisors, in whichever process, should check their leases now rather than at the
  // next heartbeat.
  if (stopped > 0) tx.wake('abort')
  return stopped
}
