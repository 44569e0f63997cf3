// The Store over either dialect: each method is one transaction, or one statement that is atomic on
// its own, around the dialect-neutral queries in db/queries/. Only claims, locking and the field
// merge differ per dialect.

import { sql } from 'drizzle-orm'
import { abortRun } from './queries/abort-run.js'
import { claimFlowCalls, claimRunFlowCalls, flowCallDue } from './queries/claim-flow-calls.js'
import { claimReadySteps } from './queries/claim-ready-steps.js'
import { createRun } from './queries/create-run.js'
import { hasWork } from './queries/has-work.js'
import { appendLog, listLogs } from './queries/logs.js'
import { pauseRun, resumeRun } from './queries/pause-run.js'
import { postFields } from './queries/post-fields.js'
import { queryFields } from './queries/query-fields.js'
import { getRun, getRunFlowName, listRuns } from './queries/read-runs.js'
import { getStep, listFlowCalls, listSteps, listStepsPage } from './queries/read-steps.js'
import { reapExpiredLeases } from './queries/reap-expired-leases.js'
import { recordFlowExit } from './queries/record-flow-exit.js'
import { recordRefusal } from './queries/record-refusal.js'
import { recordStepExit } from './queries/record-step-exit.js'
import { releaseLease } from './queries/release-leases.js'
import { renewLeases } from './queries/renew-leases.js'
import { retryRun } from './queries/retry-run.js'
import { retryStep } from './queries/retry-step.js'
import { runTokenKey } from './queries/run-token-key.js'
import { scheduleStage } from './queries/schedule-stage.js'
import type { Tx } from './queries/tx.js'
import { updateRun } from './queries/update-run.js'
import { rememberFlowNames } from './remember-flow-names.js'
import { parseLease } from './rules/lease-key.js'
import type { Dialect, SqlExecutor, WakeEvent } from './sql-executor.js'
import type {
  ClaimedFlowCall,
  ClaimedWork,
  ClaimLimits,
  ExitReport,
  LocalWorker,
  Store,
  WorkClaim,
} from './store.js'
import { fail, ok, type Outcome, type Run, type RunStatus, type RunWithStages } from './types.js'

/** A change answered with a failed Outcome changed nothing: there is no work to claim. */
function isFailure(result: unknown): boolean {
  return typeof result === 'object' && result !== null && 'ok' in result && result.ok === false
}

export function createSqlStore(d: Dialect): Store {
  const inTx = <T>(work: (tx: Tx) => Promise<T>): Promise<T> =>
    d.transaction((q: SqlExecutor, wake, commitWith) => work({ q, d, wake, commitWith }))
  /** A state change whose commit always tells other processes' tick loops (PostgreSQL NOTIFY). */
  const changing = <T>(event: WakeEvent, work: (tx: Tx) => Promise<T>): Promise<T> =>
    inTx((tx) => {
      tx.wake(event)
      return work(tx)
    })
  // One statement outside an explicit transaction; claims wake nobody.
  const autocommit: Tx = {
    q: d.db,
    d,
    wake: () => undefined,
    commitWith: () => {
      throw new Error('maxq: commitWith outside a transaction')
    },
  }
  const flowNames = rememberFlowNames((runId) => getRunFlowName(d.db, runId))
  /** A claimed callback's flow is about to post a stage, here on the local runner. */
  const rememberRuns = (calls: ClaimedFlowCall[]): ClaimedFlowCall[] => {
    for (const call of calls) flowNames.remember(call.runId, call.flowName)
    return calls
  }
  const claimDueFlowCalls = async (claim: ClaimLimits, now: number) =>
    claim.limit > 0 && (await flowCallDue(d.db, now)) ? rememberRuns(await claimFlowCalls(d, claim, now)) : []
  const thenRun = async (runId: string, outcome: Outcome<unknown>): Promise<Outcome<RunWithStages>> => {
    if (!outcome.ok) return outcome
    const run = await getRun(d, runId)
    return run ? ok(run) : fail('RUN_NOT_FOUND', { runId })
  }

  /**
   * A worker's claims, last in a transaction: their answers are the worker's, not the
   * transaction's, so they go out with the COMMIT. Ready steps of any run, and the run's own
   * callback when the change queued one (a trigger, or a stage's end; most fan-out ends queue none).
   */
  const claimInCommit = (
    tx: Tx,
    runId: string,
    claim: WorkClaim,
    madeCallback: boolean,
    now: number,
  ): Promise<ClaimedWork> => {
    const steps = claimReadySteps(tx, { workerId: claim.workerId, limit: claim.stepLimit }, now)
    const flowCalls = madeCallback
      ? claimRunFlowCalls(tx, runId, { workerId: claim.workerId, limit: claim.flowCallLimit }, now).then(
          rememberRuns,
        )
      : Promise.resolve([])
    const claimed = Promise.all([flowCalls, steps]).then(([flowCalls, steps]) => ({ flowCalls, steps }))
    tx.commitWith(claimed)
    return claimed
  }

  let localWorker: LocalWorker | null = null
  let tokenKey: Promise<string> | undefined
  /**
   * A change that makes work in a run (named by id, or from the change's answer), with the local
   * worker's claim in its commit when the change succeeded: ready steps, and the run's callback
   * when the change queued one. The wake-up still goes out: other processes, and the local loop
   * when the claim filled its batch, may take the rest.
   */
  const makingWork = async <T>(
    run: string | ((result: T) => string),
    now: number,
    work: (tx: Tx) => Promise<T>,
    queuesCallback = false,
  ): Promise<T> => {
    const worker = localWorker
    if (worker === null) return changing('work', work)
    let held: WorkClaim | undefined
    let claiming: Promise<ClaimedWork> | undefined
    let taken: ClaimedWork = { flowCalls: [], steps: [] }
    try {
      const result = await changing('work', async (tx) => {
        const result = await work(tx)
        if (isFailure(result)) return result
        held = worker.claim()
        const runId = typeof run === 'string' ? run : run(result)
        if (held !== undefined) claiming = claimInCommit(tx, runId, held, queuesCallback, now)
        return result
      })
      if (claiming !== undefined) taken = await claiming
      return result
    } finally {
      // Rolled back, the claim took nothing, and its slots are free again.
      if (held !== undefined) worker.taken(held, taken)
    }
  }

  return {
    dialect: d.name,
    createRun: async (run, now) => {
      const created = await makingWork(
        (created: Run) => created.id,
        now,
        (tx) => createRun(tx, run, now),
        true,
      )
      flowNames.remember(created.id, created.flowName)
      return created
    },
    getRun: (runId) => getRun(d, runId),
    getRunFlowName: (runId) => flowNames.of(runId),
    getRunStatus: async (runId) => {
      const rows = await d.db.all<{ status: RunStatus }>(sql`SELECT status FROM runs WHERE id = ${runId}`)
      return rows[0]?.status ?? null
    },
    listRuns: (query) => listRuns(d.db, query),
    updateRun: (runId, patch, now) => inTx((tx) => updateRun(tx, runId, patch, now)),
    abortRun: (runId, now) => changing('abort', (tx) => abortRun(tx, runId, now)),
    retryRun: (runId, now) => makingWork(runId, now, (tx) => retryRun(tx, runId, now), true),
    pauseRun: async (runId, now) => thenRun(runId, await inTx((tx) => pauseRun(tx, runId, now))),
    resumeRun: async (runId, now) =>
      thenRun(runId, await makingWork(runId, now, (tx) => resumeRun(tx, runId, now), true)),

    scheduleStage: (runId, stage, now) =>
      makingWork(runId, now, (tx) => scheduleStage(tx, runId, stage, now)),
    listSteps: (runId) => listSteps(d.db, runId),
    listStepsPage: (runId, query) => listStepsPage(d.db, runId, query),
    getStep: (runId, stepId) => getStep(d.db, runId, stepId),
    retryStep: async (runId, stepId, now) => {
      const outcome = await makingWork(runId, now, (tx) => retryStep(tx, runId, stepId, now))
      return outcome.ok ? getStep(d.db, runId, stepId) : outcome
    },
    postFields: (runId, stepId, fields, now) => postFields(d, runId, stepId, fields, now),
    queryFields: (runId, query) => queryFields(d.db, runId, query),
    listFlowCalls: (runId) => listFlowCalls(d.db, runId),

    recordRefusal: (runId, refusal, now) => inTx((tx) => recordRefusal(tx, runId, refusal, now)),
    appendLog: (runId, log, now) => inTx((tx) => appendLog(tx, runId, log, now)),
    listLogs: (runId, query) => listLogs(d.db, runId, query),

    reapExpiredLeases: (now, leaseMs) => reapExpiredLeases(d, now, leaseMs),
    claimFlowCalls: claimDueFlowCalls,
    claimReadySteps: (claim, now) => claimReadySteps(autocommit, claim, now),
    // Each claim is atomic on its own, so they do not share a transaction and go out side by side:
    // the step claim is one statement, and a flow call claim opens a transaction only when a call
    // is due. On PostgreSQL an idle-ish tick is then one round trip, not BEGIN … COMMIT.
    claimWork: async (claim, now) => {
      const [flowCalls, steps] = await Promise.all([
        claimDueFlowCalls({ workerId: claim.workerId, limit: claim.flowCallLimit }, now),
        claimReadySteps(autocommit, { workerId: claim.workerId, limit: claim.stepLimit }, now),
      ])
      return { flowCalls, steps }
    },
    // An end wakes other processes only for what it changed: work made claimable, or leases revoked
    // (see the queries). In a fan-out most step ends just free a slot in their own process, which
    // the worker's claim, sent with the COMMIT, fills again.
    recordExit: async (report: ExitReport, now: number, claim?: WorkClaim) => {
      const lease = parseLease(report.lease)
      if (lease === null) return { accepted: false, leasesRevoked: false }
      const end = { ...report, attempt: lease.attempt, runId: lease.runId }
      let leasesRevoked = false
      let madeWork = false
      let claiming: Promise<ClaimedWork> | undefined
      const accepted = await inTx(async (tx) => {
        const watched: Tx = {
          ...tx,
          wake: (event) => {
            if (event === 'abort') leasesRevoked = true
            else madeWork = true
            tx.wake(event)
          },
        }
        const accepted =
          lease.kind === 'step'
            ? await recordStepExit(watched, { ...end, stepId: lease.stepId }, now)
            : await recordFlowExit(watched, { ...end, callId: lease.callId }, now)
        if (claim !== undefined) claiming = claimInCommit(watched, end.runId, claim, madeWork, now)
        return accepted
      })
      const claimed = claiming === undefined ? undefined : await claiming
      return claimed === undefined ? { accepted, leasesRevoked } : { accepted, leasesRevoked, claimed }
    },
    heartbeat: async (workerId, leases, now) => ({ lost: await renewLeases(d.db, workerId, leases, now) }),
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
    hasWork: (now) => hasWork(d.db, now),

    attachWorker: (worker) => {
      localWorker = worker
      return () => {
        if (localWorker === worker) localWorker = null
      }
    },
    subscribe: (onEvent) => d.listen(onEvent),
    runTokenKey: () =>
      (tokenKey ??= runTokenKey(d.db).catch((error: unknown) => {
        tokenKey = undefined // a database that was down may answer the next time
        throw error
      })),
    ping: async () => {
      await d.db.all(sql`SELECT 1 AS ok`)
    },
    close: () => d.close(),
  }
}
