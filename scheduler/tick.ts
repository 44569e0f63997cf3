// One tick: one bounded batch of atomic claims and process starts. It never waits for a script.
// Stage completion, callback queueing and run completion happen in the same transaction that
// records a step's exit (db/queries/record-step-exit.ts), so no tick can see half of them.

import type { ClaimedWork, WorkerStore } from '../db/store.js'
import { recordClaim, recordTick } from '../metrics/process-metrics.js'
import type { ProcessJob } from '../runtime/process-job.js'
import { jobsFor, type JobContext } from './build-jobs.js'
import type { SlotPool } from './slot-pool.js'
import type { ScheduleKeeper } from './start-scheduled-runs.js'

export interface TickDeps {
  store: WorkerStore
  workerId: string
  jobs: JobContext
  batchSize: number
  /** The worker's step slots: the claim holds what it asks for until its steps are launched. */
  slots: SlotPool
  /** Starts the processes (an in-process Supervisor, or a detached one for a one-shot tick). */
  launch: (jobs: ProcessJob[]) => void
  now: () => number
  /** Reap expired leases in this tick (the loop does it every few seconds, not every tick). */
  reap: boolean
  leaseMs: number
  /** MAXQ_MAX_LOST_ATTEMPTS: lost attempts of one step or flow call re-queued before it fails. */
  maxLostAttempts?: number
  /** Starts the due runs of flow.json schedules first, so their first flow calls are claimed now. */
  schedules?: ScheduleKeeper
  /**
   * With the reap, first: kills the scripts of this host's dead supervisors and hands their leases
   * back (scheduler/recover-dead-supervisors.ts), before any expired lease is re-queued and claimed.
   */
  recover?: () => Promise<void>
}

export interface TickReport {
  reaped: number
  /** Runs started for flow.json schedule slots. */
  scheduled: number
  flowCalls: number
  claimed: number
  /** True when a claim filled its batch: more work is probably ready right now. */
  full: boolean
}

export async function tick(deps: TickDeps): Promise<TickReport> {
  const tickStarted = performance.now()
  if (deps.reap) await deps.recover?.()
  const reaped = deps.reap
    ? await deps.store.reapExpiredLeases(deps.now(), deps.leaseMs, deps.maxLostAttempts)
    : 0
  // GET /runs's totals stay a short sum (db/queries/run-counts.ts); usually one index read.
  if (deps.reap) await deps.store.foldRunCounts()
  const scheduled = deps.schedules ? await deps.schedules.startDue(deps.now()) : 0
  const limit = deps.slots.hold(deps.batchSize)
  let work: ClaimedWork = { flowCalls: [], steps: [] }
  let started: string[] = []
  try {
    const claimStarted = performance.now()
    work = await deps.store.claimWork(
      { workerId: deps.workerId, flowCallLimit: deps.batchSize, stepLimit: limit },
      deps.now(),
    )
    recordClaim((performance.now() - claimStarted) / 1000)
    const jobs = jobsFor(deps.jobs, work)
    if (jobs.length > 0) deps.launch(jobs)
    started = work.steps.map((step) => step.lease)
  } finally {
    // Held until launched, so a claim made meanwhile (an exit's) never counts these slots free.
    deps.slots.launched(limit, started)
  }
  recordTick((performance.now() - tickStarted) / 1000, reaped)
  return {
    reaped,
    scheduled,
    flowCalls: work.flowCalls.length,
    claimed: work.steps.length,
    full: work.flowCalls.length === deps.batchSize || (limit > 0 && work.steps.length === limit),
  }
}
