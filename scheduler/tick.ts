// One tick: one bounded batch of atomic claims and process starts. It never waits for a script.
// Stage completion, callback queueing and run completion happen in the same transaction that
// records a step's exit (db/queries/record-step-exit.ts), so no tick can see half of them.

import type { ClaimedWork, Store } from '../db/store.js'
import type { ProcessJob } from '../runtime/process-job.js'
import { jobsFor, type JobContext } from './build-jobs.js'

export interface TickDeps {
  store: Store
  workerId: string
  jobs: JobContext
  batchSize: number
  /**
   * Takes up to `max` step slots for this tick's claim (MAXQ_MAX_CONCURRENT_STEPS minus the steps
   * running). A worker that also claims elsewhere holds them until `releaseSlots`, which comes
   * after the claimed steps were launched.
   */
  holdSlots: (max: number) => number | Promise<number>
  releaseSlots?: (held: number) => void
  /** Starts the processes (an in-process Supervisor, or a detached one for a one-shot tick). */
  launch: (jobs: ProcessJob[]) => void
  now: () => number
  /** Reap expired leases in this tick (the loop does it every few seconds, not every tick). */
  reap: boolean
  leaseMs: number
}

export interface TickReport {
  reaped: number
  flowCalls: number
  claimed: number
  /** True when a claim filled its batch: more work is probably ready right now. */
  full: boolean
}

export async function tick(deps: TickDeps): Promise<TickReport> {
  const reaped = deps.reap ? await deps.store.reapExpiredLeases(deps.now(), deps.leaseMs) : 0
  const limit = Math.max(0, await deps.holdSlots(deps.batchSize))
  let work: ClaimedWork
  try {
    work = await deps.store.claimWork(
      { workerId: deps.workerId, flowCallLimit: deps.batchSize, stepLimit: limit },
      deps.now(),
    )
    const jobs = jobsFor(deps.jobs, work)
    if (jobs.length > 0) deps.launch(jobs)
  } finally {
    deps.releaseSlots?.(limit)
  }
  return {
    reaped,
    flowCalls: work.flowCalls.length,
    claimed: work.steps.length,
    full: work.flowCalls.length === deps.batchSize || (limit > 0 && work.steps.length === limit),
  }
}
