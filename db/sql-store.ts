// The Store over either dialect: each method is one transaction, or one statement that is atomic on
// its own, around the dialect-neutral queries in db/queries/. Only claims, locking, the field merge
// and the hot paths' shape (db/sql-executor.ts TxExecutor) differ per dialect. The methods are
// grouped by concern, the way db/store.ts splits them: what the API calls, what a worker calls.

import { sql } from 'drizzle-orm'
import { abortRun } from './queries/abort-run.js'
import { claimFlowCalls, flowCallDue } from './queries/claim-flow-calls.js'
import { claimReadySteps } from './queries/claim-ready-steps.js'
import { createRun } from './queries/create-run.js'
import { deleteRun, pruneRuns } from './queries/delete-runs.js'
import { findWork } from './queries/find-work.js'
import { appendLog, listLogs } from './queries/logs.js'
import { pauseRun, resumeRun } from './queries/pause-run.js'
import { postFields } from './queries/post-fields.js'
import { queryFields } from './queries/query-fields.js'
import { readChanges, readRunHead } from './queries/read-changes.js'
import { readMetrics } from './queries/read-metrics.js'
import { getRun, getRunFlowName, getRunJson, listRuns } from './queries/read-runs.js'
import { foldRunCounts } from './queries/run-counts.js'
import { getStep, listFlowCalls, listSteps, listStepsPage } from './queries/read-steps.js'
import { reapExpiredLeases, reapLostLeases } from './queries/reap-expired-leases.js'
import { DEFAULT_MAX_LOST_ATTEMPTS } from './rules/decide-attempt.js'
import { recordRefusal } from './queries/record-refusal.js'
import { exitRecorder } from './record-exit.js'
import { releaseLease } from './queries/release-leases.js'
import { renewLeases } from './queries/renew-leases.js'
import { retryRun } from './queries/retry-run.js'
import { retryStep } from './queries/retry-step.js'
import { runTokenKey } from './queries/run-token-key.js'
import { scheduleStage } from './queries/schedule-stage.js'
import { lastScheduleSlots, markScheduleSeen, startScheduledRun } from './queries/schedule-slots.js'
import type { InTx, Tx } from './queries/tx.js'
import { updateRun } from './queries/update-run.js'
import { deleteExpiredWorkers, listLiveWorkers, recordWorker, removeWorker } from './queries/workers.js'
import { rememberFlowNames, type FlowNames } from './remember-flow-names.js'
import { SiblingMemo } from './sibling-memo.js'
import { runningLeasesOf } from './queries/running-leases-of.js'
import type { Dialect, WakeEvent } from './sql-executor.js'
import type { ApiStore, ClaimedFlowCall, ClaimLimits, Store, WorkerStore } from './store.js'
import { fail, ok, type Outcome, type RunStatus, type RunWithStages } from './types.js'

function transactions(d: Dialect): {
  inTx: InTx
  changing: <T>(event: WakeEvent, work: (tx: Tx) => Promise<T>) => Promise<T>
} {
  const inTx: InTx = (work) => d.transaction((q, wake) => work({ q, d, wake }))
  return {
    inTx,
    /** A state change whose commit always tells other processes' workers (PostgreSQL NOTIFY). */
    changing: (event, work) =>
      inTx((tx) => {
        tx.wake(event)
        return work(tx)
      }),
  }
}

/**
 * Runs, stages and steps as the API changes and reads them. A change that makes work only says so
 * (its commit wakes other processes' workers; the handler wakes this process's): a worker claims.
 */
function apiSide(
  d: Dialect,
  flowNames: FlowNames,
  runEndGraceMs: number,
): Omit<ApiStore, 'dialect' | 'pruneRuns' | keyof ReportingStore> {
  const { inTx, changing } = transactions(d)
  const thenRun = async (runId: string, outcome: Outcome<unknown>): Promise<Outcome<RunWithStages>> => {
    if (!outcome.ok) return outcome
    const run = await getRun(d, runId)
    return run ? ok(run) : fail('RUN_NOT_FOUND', { runId })
  }
  return {
    // --- runs
    createRun: async (run, now) => {
      const created = await changing('work', (tx) => createRun(tx, run, now))
      flowNames.remember(created.id, created.flowName)
      return created
    },
    getRun: (runId, now) => getRun(d, runId, now),
    getRunJson: (runId, now) => getRunJson(d, runId, now),
    getRunFlowName: (runId) => flowNames.of(runId),
    runTokenWorks: async (runId, now) => {
      const rows = await d.db.all<{ status: RunStatus; completed_at: number | null }>(
        sql`SELECT status, completed_at FROM runs WHERE id = ${runId}`,
      )
      const run = rows[0]
      if (run === undefined) return false
      if (run.status !== 'completed' && run.status !== 'failed') return true
      return now < Number(run.completed_at ?? 0) + runEndGraceMs
    },
    listRuns: (query) => listRuns(d.db, query),
    updateRun: (runId, patch, now) => inTx((tx) => updateRun(tx, runId, patch, now)),
    abortRun: (runId, now) => changing('abort', (tx) => abortRun(tx, runId, now)),
    retryRun: (runId, now) => changing('work', (tx) => retryRun(tx, runId, now)),
    pauseRun: async (runId, now) => thenRun(runId, await inTx((tx) => pauseRun(tx, runId, now))),
    resumeRun: async (runId, now) =>
      thenRun(runId, await changing('work', (tx) => resumeRun(tx, runId, now))),
    deleteRun: (runId) => inTx((tx) => deleteRun(tx, runId)),

    // --- stages and steps
    scheduleStage: (runId, stage, now) => changing('work', (tx) => scheduleStage(tx, runId, stage, now)),
    listSteps: (runId, now) => listSteps(d, runId, now),
    listStepsPage: (runId, query, now) => listStepsPage(d, runId, query, now),
    getStep: (runId, stepId, now) => getStep(d, runId, stepId, now),
    retryStep: async (runId, stepId, now) => {
      const outcome = await changing('work', (tx) => retryStep(tx, runId, stepId, now))
      return outcome.ok ? getStep(d, runId, stepId, now) : outcome
    },
    postFields: (runId, stepId, fields, now) => postFields(d, runId, stepId, fields, now),
    queryFields: (runId, query) => queryFields(d.db, runId, query),
    listFlowCalls: (runId) => listFlowCalls(d.db, runId),

    // --- logs
    recordRefusal: (runId, refusal, now) => inTx((tx) => recordRefusal(tx, runId, refusal, now)),
    appendLog: (runId, log, now) => inTx((tx) => appendLog(tx, runId, log, now)),
    listLogs: (runId, query) => listLogs(d.db, runId, query),

    ping: async () => {
      await d.db.all(sql`SELECT 1 AS ok`)
    },
    listLiveWorkers: (now) => listLiveWorkers(d.db, now),
    readMetrics: (now, since) => readMetrics(d.db, now, since),

    // --- the event stream
    readChanges: (scope, since) => readChanges(d, scope, since),
    readRunHead: (runId) => readRunHead(d, runId),
    subscribe: (onEvent) => d.listen(onEvent),
  }
}

/** What a supervisor reports, through the API (`/leases/…`) or a worker's store directly. */
type ReportingStore = Pick<WorkerStore, 'recordExit' | 'heartbeat' | 'runTokenKey'>

function reportingSide(
  d: Dialect,
  rememberRuns: (calls: ClaimedFlowCall[]) => ClaimedFlowCall[],
  siblings: SiblingMemo,
  runEndGraceMs: number,
): ReportingStore {
  const { inTx } = transactions(d)
  let tokenKey: Promise<string> | undefined
  return {
    recordExit: exitRecorder(d, inTx, rememberRuns, siblings),
    heartbeat: async (workerId, leases, now) => ({
      lost: await renewLeases(d.db, workerId, leases, now, runEndGraceMs),
    }),
    runTokenKey: () =>
      (tokenKey ??= runTokenKey(d.db).catch((error: unknown) => {
        tokenKey = undefined // a database that was down may answer the next time
        throw error
      })),
  }
}

/** A worker's claims and leases. */
function workerSide(
  d: Dialect,
  rememberRuns: (calls: ClaimedFlowCall[]) => ClaimedFlowCall[],
  siblings: SiblingMemo,
): Omit<WorkerStore, 'dialect' | 'pruneRuns' | keyof ReportingStore> {
  const { inTx, changing } = transactions(d)
  const claimDueFlowCalls = async (claim: ClaimLimits, now: number) =>
    claim.limit > 0 && (await flowCallDue(d.db, now)) ? rememberRuns(await claimFlowCalls(d, claim, now)) : []
  return {
    foldRunCounts: () => foldRunCounts(d),
    reapExpiredLeases: (now, leaseMs, maxLost = DEFAULT_MAX_LOST_ATTEMPTS) =>
      reapExpiredLeases(d, now, leaseMs, maxLost),
    reapLostLeases: (leases, now, maxLost = DEFAULT_MAX_LOST_ATTEMPTS) =>
      reapLostLeases(d, leases, now, maxLost),
    runningLeasesOf: (workerId) => runningLeasesOf(d.db, workerId),
    claimFlowCalls: claimDueFlowCalls,
    claimReadySteps: (claim, now) => claimReadySteps(d.db, d, claim, now, siblings),
    // Each claim is atomic on its own, so they do not share a transaction and go out side by side,
    // on two connections of the pool: the step claim is one statement, and the flow call claim runs
    // only when the probe finds a call due. On PostgreSQL an idle-ish tick is one round trip.
    claimWork: async (claim, now) => {
      const [flowCalls, steps] = await Promise.all([
        claimDueFlowCalls({ workerId: claim.workerId, limit: claim.flowCallLimit }, now),
        claimReadySteps(d.db, d, { workerId: claim.workerId, limit: claim.stepLimit }, now, siblings),
      ])
      return { flowCalls, steps }
    },
    releaseLeases: async (leases, now) => {
      let released = 0
      for (const lease of leases) if (await inTx((tx) => releaseLease(tx, lease, now))) released++
      if (released > 0) await d.notify('work')
      return released
    },
    countRunningSteps: async () => {
      const rows = await d.db.all<{ n: number | string }>(
        sql`SELECT COUNT(*) AS n FROM steps WHERE status = 'running'`,
      )
      return Number(rows[0]?.n ?? 0)
    },
    findWork: (now) => findWork(d.db, now),
    lastScheduleSlots: (flowNames) => inTx((tx) => lastScheduleSlots(tx, flowNames)),
    markScheduleSeen: (slot, now) => inTx((tx) => markScheduleSeen(tx, slot, now)),
    startScheduledRun: (request, now) => changing('work', (tx) => startScheduledRun(tx, request, now)),
    subscribe: (onEvent) => d.listen(onEvent),
    recordWorker: (worker) => recordWorker(d.db, worker),
    removeWorker: (workerId) => removeWorker(d.db, workerId),
    deleteExpiredWorkers: (now) => deleteExpiredWorkers(d.db, now),
  }
}

/** MAXQ_ABORT_GRACE_MS's default (runtime/limits.ts DEFAULT_ABORT_GRACE_MS; db/ imports no runtime/). */
export const DEFAULT_RUN_END_GRACE_MS = 5_000

/** How this process's store behaves, beyond where it lives (cli/config.ts databaseConfig). */
export interface StoreOptions {
  /**
   * MAXQ_ABORT_GRACE_MS: how long a flow call may keep running after its run completed before its
   * heartbeat answers its lease as lost (db/queries/renew-leases.ts). DEFAULT_RUN_END_GRACE_MS by default.
   */
  runEndGraceMs?: number
}

export function createSqlStore(d: Dialect, options: StoreOptions = {}): Store {
  const flowNames = rememberFlowNames((runId) => getRunFlowName(d.db, runId))
  /** A claimed callback's flow is about to post a stage, here on the local runner. */
  const rememberRuns = (calls: ClaimedFlowCall[]): ClaimedFlowCall[] => {
    for (const call of calls) flowNames.remember(call.runId, call.flowName)
    return calls
  }
  const runEndGraceMs = options.runEndGraceMs ?? DEFAULT_RUN_END_GRACE_MS
  const siblings = new SiblingMemo()
  return {
    dialect: d.name,
    ...apiSide(d, flowNames, runEndGraceMs),
    ...reportingSide(d, rememberRuns, siblings, runEndGraceMs),
    ...workerSide(d, rememberRuns, siblings),
    // One statement, atomic on its own: the API's prune and the worker's retention sweep.
    pruneRuns: (query) => pruneRuns(d.db, query),
    close: () => d.close(),
  }
}
