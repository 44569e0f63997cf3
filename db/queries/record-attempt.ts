// One row of attempt history (the attempts table, migration 0011) for an attempt that ended, written
// by the statement that records its end, in the same transaction. The row's worker and start come
// from the step or flow call row as the claim left them, so they cost no read of their own.

import { sql, type SQL } from 'drizzle-orm'

/** The last this many characters of stdout and of stderr are kept per attempt. */
export const ATTEMPT_TAIL_CHARS = 4096

/** Or the reason of the run's end that stopped it (`aborted`, `flow_failed`…). */
export type AttemptTermination = 'exit' | 'signal' | 'timeout' | 'lease_expired' | (string & {})

export interface AttemptOutcome {
  exitCode: number | null
  signal?: string | null
  terminationReason: AttemptTermination
  /** Already masked: supervisors mask the run's secrets before they report (runtime/supervise.ts). */
  stdout?: string
  stderr?: string
}

/** How an attempt its supervisor reported on ended (a lost one is `lease_expired`, set by the reaper). */
export function terminationOf(end: { exitCode: number | null; timedOut?: boolean }): AttemptTermination {
  if (end.timedOut) return 'timeout'
  return end.exitCode === null ? 'signal' : 'exit'
}

const tail = (text: string | undefined): string | null =>
  text === undefined ? null : text.slice(-ATTEMPT_TAIL_CHARS)

function values(outcome: AttemptOutcome, now: number, reason: SQL = sql`${outcome.terminationReason}`): SQL {
  return sql`${now}, ${outcome.exitCode}, ${outcome.signal ?? null}, ${reason},
    ${tail(outcome.stdout)}, ${tail(outcome.stderr)}`
}

/**
 * The attempt of a step, read from `source`: a FROM item with run_id, step_id, attempt, worker_id
 * and started_at (the steps row itself, or a writable CTE's RETURNING).
 */
export function insertStepAttempt(source: SQL, outcome: AttemptOutcome, now: number): SQL {
  return sql`
    INSERT INTO attempts (run_id, step_id, attempt, worker_id, started_at, ended_at, exit_code, signal,
      termination_reason, stdout_tail, stderr_tail)
    SELECT run_id, step_id, attempt, worker_id, started_at, ${values(outcome, now)} FROM ${source}`
}

/** The attempt of a flow call, read from `source` (as above, with id for the call's id). */
export function insertFlowCallAttempt(source: SQL, outcome: AttemptOutcome, now: number): SQL {
  // A running call with a reason was told to stop after its run ended (`run_ended`, `aborted`:
  // db/queries/outlived-flow-call.ts); unless its supervisor died meanwhile, that is why it ended.
  const reason =
    outcome.terminationReason === 'lease_expired'
      ? sql`${outcome.terminationReason}`
      : sql`COALESCE(termination_reason, ${outcome.terminationReason})`
  return sql`
    INSERT INTO attempts (run_id, flow_call_id, attempt, worker_id, started_at, ended_at, exit_code,
      signal, termination_reason, stdout_tail, stderr_tail)
    SELECT run_id, id, attempt, worker_id, started_at, ${values(outcome, now, reason)} FROM ${source}`
}

/** The steps row of one running attempt, as a FROM item for insertStepAttempt. */
export const runningStep = (runId: string, stepId: string, attempt: number): SQL =>
  sql`steps WHERE run_id = ${runId} AND step_id = ${stepId} AND status = 'running' AND attempt = ${attempt}`

/** The flow_calls row of one running attempt, as a FROM item for insertFlowCallAttempt. */
export const runningFlowCall = (runId: string, callId: number, attempt: number): SQL =>
  sql`flow_calls WHERE id = ${callId} AND run_id = ${runId} AND status = 'running' AND attempt = ${attempt}`
