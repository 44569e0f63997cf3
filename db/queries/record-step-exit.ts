import { sql, type SQL } from 'drizzle-orm'
import { decideAttempt, decideLostAttempt, type RetryBackoff } from '../rules/decide-attempt.js'
import type { StepLease } from '../rules/lease-key.js'
import type { Json } from '../types.js'
import { failDependents, releaseDependents } from './propagate-step-end.js'
import {
  closeStage,
  closeStageStatement,
  moveOn,
  openStepIn,
  settleStage,
  type RunRef,
  type SettledStage,
} from './settle-stage.js'
import { insertStepAttempt, runningStep, terminationOf } from './record-attempt.js'
import { stepFailedLine } from './system-lines.js'
import { isRunOpen, lockRun, lockRunStatement, type LockedRun, type Tx } from './tx.js'
import { writeLog } from './write-log.js'

export interface StepAttemptEnd {
  runId: string
  stepId: string
  attempt: number
  exitCode: number | null
  signal?: string | null
  timedOut?: boolean
  stdout?: string
  stderr?: string
}

/** Whether the end completes its step (exit code 0 in time); anything else is a failed attempt. */
export const succeeded = (end: Pick<StepAttemptEnd, 'exitCode' | 'timedOut'>): boolean =>
  end.exitCode === 0 && end.timedOut !== true

/** A success needs nothing from the row to be decided: one UPDATE, matching nothing when stale. */
function markCompleted(end: StepAttemptEnd, now: number, onlyIf = sql``): SQL {
  return sql`
    UPDATE steps SET status = 'completed', exit_code = ${end.exitCode},
      stdout = ${end.stdout ?? null}, stderr = ${end.stderr ?? null}, error = NULL,
      termination_reason = NULL, available_at = NULL, completed_at = ${now}, heartbeat_at = NULL,
      updated_at = ${now}
    WHERE run_id = ${end.runId} AND step_id = ${end.stepId} AND status = 'running' AND attempt = ${end.attempt}
      ${onlyIf}
    RETURNING stage_seq, run_id, step_id, attempt, worker_id, started_at`
}

const outcomeOf = (end: StepAttemptEnd) => ({ ...end, terminationReason: terminationOf(end) })

interface Completion {
  run: LockedRun | null
  accepted: boolean
  /** Dependents the step's end made claimable. */
  released: number
  stage: SettledStage | undefined
}

/**
 * PostgreSQL's step completion as writable CTEs: `done` completes the step (only `onlyIf`), then
 * its attempt is recorded and its dependents released, both only when `done` matched.
 */
function completion(tx: Tx, end: StepAttemptEnd, now: number, onlyIf = sql``): SQL {
  return sql`done AS (${markCompleted(end, now, onlyIf)}),
        attempted AS (${insertStepAttempt(sql`done`, outcomeOf(end), now)}),
        released AS (${releaseDependents(tx, end.runId, end.stepId, now, sql`AND EXISTS (SELECT 1 FROM done)`)})`
}

/**
 * PostgreSQL: a pipeline of two statements, one flight. The run's lock first, then one statement
 * (writable CTEs) that completes the step, releases its dependents and settles its stage, the last
 * two only when the first matched. It starts once the lock is held, so its snapshot sees every
 * sibling that ended before; its own step still reads as running in it, so the settle leaves that
 * one out by id.
 */
async function completeInOneStatement(tx: Tx, end: StepAttemptEnd, now: number): Promise<Completion> {
  const [locked = [], answer = []] = await tx.q.pipeline([
    lockRunStatement(tx, end.runId),
    sql`
      WITH ${completion(tx, end, now)},
        settled AS (${closeStageStatement(end.runId, sql`SELECT stage_seq FROM done`, now, end.stepId)})
      SELECT (SELECT COUNT(*) FROM done) AS accepted,
        (SELECT COUNT(*) FROM released WHERE available_at = ${now}) AS released,
        settled.seq, settled.name, settled.final, settled.status
      FROM (SELECT 1) AS one LEFT JOIN settled ON true`,
  ])
  const row = answer[0]
  return {
    run: (locked[0] as LockedRun | undefined) ?? null,
    accepted: Number(row?.accepted ?? 0) > 0,
    released: Number(row?.released ?? 0),
    stage: row?.seq === null || row?.seq === undefined ? undefined : (row as unknown as SettledStage),
  }
}

/** SQLite: the same, as plain statements one after the other (in-process, nothing to save). */
async function completeInSteps(tx: Tx, end: StepAttemptEnd, now: number): Promise<Completion> {
  const run = await lockRun(tx, end.runId)
  const done = run === null ? [] : await tx.q.all<{ stage_seq: number }>(markCompleted(end, now))
  const seq = done[0]?.stage_seq
  if (run === null || seq === undefined) return { run, accepted: false, released: 0, stage: undefined }
  await tx.q.run(
    insertStepAttempt(
      sql`steps WHERE run_id = ${end.runId} AND step_id = ${end.stepId} AND attempt = ${end.attempt}`,
      outcomeOf(end),
      now,
    ),
  )
  const released = await tx.q.all<{ available_at: number | null }>(
    releaseDependents(tx, end.runId, end.stepId, now),
  )
  const stage = await closeStage(tx, end.runId, sql`${Number(seq)}`, now)
  return {
    run,
    accepted: true,
    released: released.filter((row) => row.available_at !== null && Number(row.available_at) === now).length,
    stage,
  }
}

/** How a success went that was to be recorded only beside an open sibling. */
export interface EndBesideSibling {
  /** The step completed, and its stage stays open. */
  accepted: boolean
  /** Dependents the end made claimable. */
  released: number
  /** Nothing changed: the step is its stage's last open one, for recordStepExit to settle. */
  last: boolean
}

/**
 * PostgreSQL: a success while another step of its stage is still open, as most ends of a fan-out
 * or a chain are. Such an end cannot settle its stage, so nothing in it waits for this process:
 * the run's lock, this statement, the caller's claim and COMMIT go in one flight, and the lock,
 * which every end of the run's steps queues for, is held for PostgreSQL's own work and its commit,
 * not also for a round trip through this process's event loop. The sibling check is exact under
 * the lock: a sibling that ended before committed before it let the lock go. `answer` once the
 * transaction has committed.
 */
export function completeBesideOpenSibling(
  tx: Tx,
  end: StepAttemptEnd,
  now: number,
): { answer: () => Promise<EndBesideSibling> } {
  const openSibling = sql`AND ${openStepIn(end.runId, sql`steps.stage_seq`, end.stepId)}`
  const answers = tx.q.pipeline([
    lockRunStatement(tx, end.runId),
    sql`
      WITH ${completion(tx, end, now, openSibling)}
      SELECT (SELECT COUNT(*) FROM done) AS accepted,
        (SELECT COUNT(*) FROM released WHERE available_at = ${now}) AS released,
        EXISTS (SELECT 1 FROM ${runningStep(end.runId, end.stepId, end.attempt)}) AS running`,
  ])
  // A failure is the transaction's, thrown by it; the answer is read once it has committed.
  answers.catch(() => undefined)
  const answer = async (): Promise<EndBesideSibling> => {
    const [, rows = []] = await answers
    const accepted = Number(rows[0]?.accepted ?? 0) > 0
    return {
      accepted,
      released: Number(rows[0]?.released ?? 0),
      // The statement's snapshot is from before its own update: running, and not completed.
      last: !accepted && rows[0]?.running === true,
    }
  }
  return { answer }
}

function failureOf(end: StepAttemptEnd): { reason: string; error: Json } {
  if (end.timedOut) return { reason: 'timeout', error: { reason: 'timeout', signal: end.signal ?? null } }
  if (end.exitCode === null)
    return { reason: 'signal', error: { reason: 'signal', signal: end.signal ?? null } }
  return { reason: 'exit_code', error: { reason: 'exit_code', exitCode: end.exitCode } }
}

/**
 * Records the end of one step attempt. The exit code alone decides: 0 completes the step, anything
 * else is a failed attempt that is retried, after the step's retry delay, while retries remain.
 * Either way the attempt gets its row in the attempt history. The update matches only the running
 * row with this attempt (the fencing token), so a stale or repeated report changes nothing.
 */
export async function recordStepExit(tx: Tx, end: StepAttemptEnd, now: number): Promise<boolean> {
  if (succeeded(end)) {
    const completion =
      tx.d.name === 'postgres'
        ? await completeInOneStatement(tx, end, now)
        : await completeInSteps(tx, end, now)
    if (completion.run === null || !completion.accepted) return false
    if (completion.released > 0) tx.wake('work')
    await moveOn(tx, runRefOf(end.runId, completion.run), completion.stage, now)
    return true
  }

  const run = await lockRun(tx, end.runId)
  if (run === null) return false
  const runRef = runRefOf(end.runId, run)
  const rows = await tx.q.all<{
    stage_seq: number
    retry_count: number
    max_retries: number
    retry_delay_ms: number
    retry_backoff: RetryBackoff
  }>(sql`
    SELECT stage_seq, retry_count, max_retries, retry_delay_ms, retry_backoff FROM ${runningStep(end.runId, end.stepId, end.attempt)}`)
  const step = rows[0]
  if (step === undefined) return false
  const decision = decideAttempt({
    succeeded: false,
    retryCount: Number(step.retry_count),
    maxRetries: Number(step.max_retries),
    retryDelayMs: Number(step.retry_delay_ms),
    retryBackoff: step.retry_backoff,
    random: Math.random(),
    now,
  })
  const failure = failureOf(end)
  await tx.q.run(insertStepAttempt(runningStep(end.runId, end.stepId, end.attempt), outcomeOf(end), now))
  const finished = decision.status !== 'pending'
  await tx.q.run(sql`
    UPDATE steps SET status = ${decision.status}, exit_code = ${end.exitCode},
      stdout = ${end.stdout ?? null}, stderr = ${end.stderr ?? null},
      error = ${tx.d.json(failure.error)},
      termination_reason = ${decision.status === 'failed' ? failure.reason : null},
      retry_count = ${decision.status === 'pending' ? decision.retryCount : Number(step.retry_count)},
      available_at = ${decision.status === 'pending' && isRunOpen(run.status) ? decision.availableAt : null},
      completed_at = ${finished ? now : null}, heartbeat_at = NULL, updated_at = ${now},
      -- a finished step keeps the worker that ran it, for the operator; a retry waits for a new one
      worker_id = ${finished ? sql`worker_id` : null}
    WHERE run_id = ${end.runId} AND step_id = ${end.stepId} AND attempt = ${end.attempt}`)
  // A retry is claimable work (its delay aside, which the tick loops' interval covers).
  if (decision.status === 'pending') tx.wake('work')
  tx.q.systemLog(
    stepFailedLine(runRef, end, failure.reason, decision.status === 'pending' ? decision.retryCount : null),
  )

  const stageSeq = Number(step.stage_seq)
  await writeLog(
    tx,
    end.runId,
    {
      entityType: 'step',
      entityId: end.stepId,
      level: decision.status === 'pending' ? 'warn' : 'error',
      message:
        decision.status === 'pending'
          ? `step ${end.stepId} attempt ${end.attempt} failed (${failure.reason}); retry ${decision.retryCount}`
          : `step ${end.stepId} failed (${failure.reason})`,
      metadata: failure.error,
    },
    now,
  )
  if (decision.status === 'failed') {
    await failDependents(tx, end.runId, end.stepId, stageSeq, now)
    await settleStage(tx, runRef, stageSeq, now)
  }
  return true
}

/**
 * Records a lost attempt of a step: its lease expired, or its supervisor is known dead. The attempt
 * is kept as `lease_expired`; the step is queued again ahead of fresh work without spending a
 * retry, unless `maxLostAttempts` of its attempts were lost already: then it fails with
 * `lost_attempts_exceeded`. Fenced on the attempt like an exit report, so whichever of the two
 * comes second changes nothing.
 */
export async function recordLostStepAttempt(
  tx: Tx,
  lease: StepLease,
  now: number,
  maxLostAttempts: number,
): Promise<boolean> {
  const run = await lockRun(tx, lease.runId)
  if (run === null) return false
  const running = runningStep(lease.runId, lease.stepId, lease.attempt)
  const rows = await tx.q.all<{ stage_seq: number; lost_attempts: number }>(
    sql`SELECT stage_seq, lost_attempts FROM ${running}`,
  )
  const step = rows[0]
  if (step === undefined) return false
  await tx.q.run(insertStepAttempt(running, { exitCode: null, terminationReason: 'lease_expired' }, now))
  const decision = decideLostAttempt(Number(step.lost_attempts), maxLostAttempts)
  const requeued = decision.status === 'requeued'
  const error = requeued ? null : { reason: 'lost_attempts_exceeded', lostAttempts: decision.lostAttempts }
  await tx.q.run(sql`
    UPDATE steps SET status = ${requeued ? 'pending' : 'failed'}, lost_attempts = ${decision.lostAttempts},
      exit_code = NULL, error = ${error === null ? null : tx.d.json(error)},
      termination_reason = ${requeued ? null : 'lost_attempts_exceeded'},
      available_at = ${requeued && isRunOpen(run.status) ? decision.availableAt : null},
      completed_at = ${requeued ? null : now}, heartbeat_at = NULL, updated_at = ${now},
      worker_id = ${requeued ? null : sql`worker_id`}
    WHERE run_id = ${lease.runId} AND step_id = ${lease.stepId} AND attempt = ${lease.attempt}`)
  if (requeued) tx.wake('work')
  tx.q.systemLog(
    requeued
      ? stepFailedLine(runRefOf(lease.runId, run), { ...lease, exitCode: null }, 'lease_expired', null, true)
      : stepFailedLine(
          runRefOf(lease.runId, run),
          { ...lease, exitCode: null },
          'lost_attempts_exceeded',
          null,
        ),
  )
  await writeLog(
    tx,
    lease.runId,
    {
      entityType: 'step',
      entityId: lease.stepId,
      level: requeued ? 'warn' : 'error',
      message: requeued
        ? `step ${lease.stepId} attempt ${lease.attempt} lost (lease expired: its supervisor or host died); queued again, not counted as a retry (lost ${decision.lostAttempts} of at most ${maxLostAttempts})`
        : `step ${lease.stepId} failed: ${decision.lostAttempts} attempts lost (lease expired), more than MAXQ_MAX_LOST_ATTEMPTS=${maxLostAttempts}`,
      metadata: { reason: 'lease_expired', attempt: lease.attempt, lostAttempts: decision.lostAttempts },
    },
    now,
  )
  if (!requeued) {
    const stageSeq = Number(step.stage_seq)
    await failDependents(tx, lease.runId, lease.stepId, stageSeq, now)
    await settleStage(tx, runRefOf(lease.runId, run), stageSeq, now)
  }
  return true
}

function runRefOf(runId: string, run: LockedRun): RunRef {
  return { id: runId, flowName: String(run.flow_name), status: String(run.status) }
}
