import type { Store } from '../db/store.js'
import { Supervisor } from '../runtime/supervise.js'
import { storeSinks } from '../scheduler/store-sinks.js'
import { TickLoop } from '../scheduler/tick-loop.js'
import { jobsFor } from '../scheduler/build-jobs.js'
import type { ProcessJob } from '../runtime/process-job.js'
import type { Config } from './config.js'
import { errorText, type Logger } from './log.js'
import { jobContext } from './job-context.js'

export interface RunningWorker {
  loop: TickLoop
  supervisor: Supervisor
  /** A state change may have made work ready (or, for 'abort', taken leases away). */
  wake(event?: 'work' | 'abort'): void
  stop(): Promise<void>
}

const REAP_EVERY_MS = 5_000

/**
 * A long-lived tick loop with its own in-process supervisor: `maxq tick --watch`, and the local
 * runner. The loop counts its supervisor's children against MAXQ_MAX_CONCURRENT_STEPS, and wakes
 * when a child ends (capacity freed), when the API changes state in this process, and on
 * PostgreSQL NOTIFY from any other process. The supervisor records exits and heartbeats in the
 * worker's store (scheduler/store-sinks.ts), not through the API.
 */
export async function startWorker(config: Config, store: Store, log: Logger): Promise<RunningWorker> {
  let loop: TickLoop | null = null
  let runningSteps = 0
  /** Slots held for claims in flight: the loop's, and those riding in a change's commit. */
  let heldSteps = 0
  const holdSlots = (max: number): number => {
    const held = Math.max(0, Math.min(max, config.maxConcurrentSteps - runningSteps - heldSteps))
    heldSteps += held
    return held
  }
  const releaseSlots = (held: number): void => {
    heldSteps -= held
  }
  let stopping = false
  const jobs = await jobContext(config, store)
  const launch = (batch: ProcessJob[]): void => {
    for (const job of batch) {
      if (job.lease.startsWith('step/')) runningSteps++
      supervisor.start(job)
    }
  }
  const supervisor = new Supervisor({
    apiBase: config.apiBase,
    apiToken: config.apiToken,
    workerId: config.workerId,
    graceMs: config.abortGraceMs,
    spawner: config.spawner,
    sinks: storeSinks(store, {
      now: () => Date.now(),
      onLeasesRevoked: () => wake('abort'),
      // A step's end claims work for the slot it frees (the step still counts as running until
      // its report is answered, so this never overlaps the loop's own claims), and the flow call
      // it may have queued: the next step or callback starts without waiting for a tick.
      claimFor: (lease) =>
        stopping || !lease.startsWith('step/')
          ? undefined
          : { workerId: config.workerId, stepLimit: 1, flowCallLimit: config.batchSize },
      launch: (work) => launch(jobsFor(jobs, work)),
    }),
    onExit: (lease) => {
      if (lease.startsWith('step/')) runningSteps--
      loop?.wake()
    },
  })
  loop = new TickLoop({
    store,
    workerId: config.workerId,
    jobs,
    batchSize: config.batchSize,
    holdSlots,
    releaseSlots,
    launch,
    now: () => Date.now(),
    leaseMs: config.leaseMs,
    intervalMs: config.intervalMs,
    reapEveryMs: REAP_EVERY_MS,
    onError: (error) => log.error(`tick failed: ${errorText(error)}`),
    onTick: (report) => {
      if (report.reaped > 0) log.warn(`reaped ${report.reaped} expired lease(s)`)
    },
  })
  const wake = (event: 'work' | 'abort' = 'work'): void => {
    if (event === 'abort') {
      supervisor.checkLeases().catch((error: unknown) => log.error(`lease check failed: ${errorText(error)}`))
    } else {
      loop?.wake()
    }
  }
  // A trigger or a stage post made through this process's API claims for this worker as it commits.
  const detach = store.attachWorker({
    claim: () =>
      stopping
        ? undefined
        : {
            workerId: config.workerId,
            stepLimit: holdSlots(config.batchSize),
            flowCallLimit: config.batchSize,
          },
    taken: (claim, work) => {
      // The change is committed: a job that cannot be built must not turn it into an error.
      try {
        launch(jobsFor(jobs, work))
      } catch (error) {
        log.error(`starting claimed work failed: ${errorText(error)}`)
      } finally {
        releaseSlots(claim.stepLimit)
      }
    },
  })
  const unsubscribe = await store.subscribe(wake)
  loop.start()
  return {
    loop,
    supervisor,
    wake,
    /**
     * Stops claiming, hands every running attempt back to the database (no retry is spent on a
     * clean shutdown), terminates the processes and waits, at most the grace period and a bit,
     * for their (now stale) reports.
     */
    async stop() {
      stopping = true
      detach()
      await unsubscribe()
      await loop?.stop()
      const leases = supervisor.leases
      if (leases.length > 0) {
        const released = await store.releaseLeases(leases, Date.now())
        log.info(`handed ${released} running attempt(s) back; terminating their processes`)
        supervisor.terminateAll()
        let timer: NodeJS.Timeout | undefined
        const deadline = new Promise((resolve) => (timer = setTimeout(resolve, config.abortGraceMs + 2_000)))
        await Promise.race([supervisor.idle(), deadline])
        clearTimeout(timer)
      }
      supervisor.stop()
    },
  }
}
