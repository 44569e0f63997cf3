// The worker: one module owns a process's step slots (one SlotPool), its claims and its launches.
// It claims from two places, both holding their slots in that one pool: its loop's ticks, and the
// claim each exit report of its scripts carries for its free slots (the one a step's end frees
// among them) and for its run's callback (db/store.ts recordExit). Nothing else claims for it: a
// change made through the API commits a wake-up (in-process, or PostgreSQL NOTIFY from another
// process) and the loop claims.

import type { ClaimedWork, LeaseKey, WorkClaim, WorkerStore } from '../db/store.js'
import type { WorkerKind } from '../db/types.js'
import type { ProcessJob } from '../runtime/process-job.js'
import { launchSupervisor } from '../runtime/launch-supervisor.js'
import type { Spawner } from '../runtime/spawn-detached.js'
import { Supervisor } from '../runtime/supervise.js'
import { SupervisorRegistry, type RegistryPlace } from '../runtime/supervisor-registry.js'
import { jobsFor, type JobContext } from './build-jobs.js'
import { describeRecovery, recoverDeadSupervisors, registryPlace } from './recover-dead-supervisors.js'
import { SlotPool } from './slot-pool.js'
import { ScheduleKeeper } from './start-scheduled-runs.js'
import { storeSinks } from './store-sinks.js'
import { TickLoop } from './tick-loop.js'
import { recordOneShotTick, startPresence } from './worker-presence.js'
import { tick, type TickReport } from './tick.js'

/** What every tick needs, however long its process lives. */
interface ClaimOptions {
  store: WorkerStore
  workerId: string
  jobs: JobContext
  batchSize: number
  maxConcurrentSteps: number
  leaseMs: number
  /** MAXQ_MAX_LOST_ATTEMPTS (the store's default when not given). */
  maxLostAttempts?: number
  /** The supervisor's own settings: where a detached report would go, and how it kills. */
  supervisor: { apiBase: string; apiToken: string | undefined; graceMs: number; spawner: Spawner }
  /** An invalid flow.json, said once per problem (a worker without it says it through onInfo). */
  onWarn?: (message: string) => void
  /**
   * MAXQ_RUNTIME_DIR: where this host's supervisors record their scripts, so that a dead one's are
   * stopped and its leases handed back at once (runtime/supervisor-registry.ts). Absent: neither.
   */
  registryDir?: string
}

/** The recovery a tick runs with its reap, telling what it did; undefined without a registry. */
function recovery(
  opts: ClaimOptions,
  place: RegistryPlace | null,
  tell: (message: string) => void,
): (() => Promise<void>) | undefined {
  if (place === null) return undefined
  return async () => {
    const recovered = await recoverDeadSupervisors(opts.store, place, () => Date.now(), opts.maxLostAttempts)
    if (recovered.supervisors > 0) tell(describeRecovery(recovered))
  }
}

export interface WorkerOptions extends ClaimOptions {
  intervalMs: number
  /** Least time between two lease reaps. */
  reapEveryMs: number
  onError: (what: string, error: unknown) => void
  onTick?: (report: TickReport) => void
  onInfo?: (message: string) => void
  /** What its `workers` row says it is (worker-presence.ts); `tick-loop` by default. */
  kind?: WorkerKind
}

export interface Worker {
  loop: TickLoop
  supervisor: Supervisor
  slots: SlotPool
  /** A state change may have made work ready (or, for 'abort', taken leases away). */
  wake(event?: 'work' | 'abort'): void
  stop(): Promise<void>
}

const isStep = (lease: LeaseKey): boolean => lease.startsWith('step/')

/**
 * A long-lived tick loop with its own in-process supervisor: `maxq tick --watch`, and the local
 * runner. The loop wakes when a child ends and its exit's claim may have left work, when the API
 * changes state in this process, and on PostgreSQL NOTIFY from any other process. The supervisor
 * records exits and heartbeats in the worker's store (store-sinks.ts), not through the API.
 */
export async function startWorker(opts: WorkerOptions): Promise<Worker> {
  const { store, workerId } = opts
  const slots = new SlotPool(opts.maxConcurrentSteps)
  const place = opts.registryDir === undefined ? null : await registryPlace(store, opts.registryDir)
  const tell = opts.onInfo ?? (() => {})
  const registry =
    place === null ? null : SupervisorRegistry.open({ place, workerId, onError: opts.onWarn ?? tell })
  const recover = recovery(opts, place, tell)
  let loop: TickLoop | null = null
  let stopping = false

  // Ends whose own claim left nothing for a tick of this worker to take.
  const drained = new Set<LeaseKey>()
  // It took fewer flow calls than its limit, and fewer steps than the slots it held (nothing was
  // left claimable at its commit) or as many, with no slot free once they started. Work that
  // becomes claimable later wakes the loop itself (its change's wake-up, or the interval's).
  const leftNothing = (claim: WorkClaim, work: ClaimedWork): boolean =>
    work.flowCalls.length < claim.flowCallLimit &&
    (work.steps.length < claim.stepLimit || slots.used >= slots.limit)

  const launch = (batch: ProcessJob[]): void => {
    for (const job of batch) supervisor.start(job)
  }
  const supervisor = new Supervisor({
    ...opts.supervisor,
    workerId,
    registry,
    sinks: storeSinks(store, {
      now: () => Date.now(),
      onLeasesRevoked: () => wake('abort'),
      // An end claims work for the slot it frees (a step's) and for every other free one (a batch
      // at most), and the run's callback when the end made it claimable (a stage settled, or the
      // flow call that ran before it ended): the next steps or the callback start without a tick.
      claimFor: (lease): WorkClaim | undefined => {
        if (stopping) return undefined
        const handed = slots.handOver(lease)
        return {
          workerId,
          stepLimit: handed + slots.hold(opts.batchSize - handed),
          flowCallLimit: opts.batchSize,
        }
      },
      claimed: (lease, claim, work) => {
        let started: LeaseKey[] = []
        try {
          if (work !== null) launch(jobsFor(opts.jobs, work))
          started = work?.steps.map((step) => step.lease) ?? []
        } catch (error) {
          // The exit is committed: a job that cannot be built must not turn it into an error.
          opts.onError('starting claimed work failed', error)
        } finally {
          slots.launched(claim.stepLimit, started)
        }
        if (work !== null && started.length === work.steps.length && leftNothing(claim, work))
          drained.add(lease)
      },
    }),
    onExit: (lease) => {
      if (isStep(lease)) slots.ended(lease)
      // A tick now would claim nothing the end's own claim did not: on PostgreSQL it would cost two
      // more round trips per step and per flow call, beside the next script's start.
      if (!drained.delete(lease)) loop?.wake()
    },
  })
  loop = new TickLoop({
    store,
    workerId,
    jobs: opts.jobs,
    batchSize: opts.batchSize,
    slots,
    launch,
    now: () => Date.now(),
    leaseMs: opts.leaseMs,
    ...(opts.maxLostAttempts === undefined ? {} : { maxLostAttempts: opts.maxLostAttempts }),
    schedules: new ScheduleKeeper({
      store,
      flowsRoot: opts.jobs.flowsRoot,
      warn: opts.onWarn ?? opts.onInfo ?? (() => {}),
    }),
    intervalMs: opts.intervalMs,
    reapEveryMs: opts.reapEveryMs,
    ...(recover === undefined ? {} : { recover }),
    onError: (error) => opts.onError('tick failed', error),
    ...(opts.onTick === undefined ? {} : { onTick: opts.onTick }),
  })
  const wake = (event: 'work' | 'abort' = 'work'): void => {
    if (event === 'abort') {
      supervisor.checkLeases().catch((error: unknown) => opts.onError('lease check failed', error))
    } else {
      loop?.wake()
    }
  }
  const unsubscribe = await store.subscribe(wake)
  const presence = await startPresence({
    store,
    workerId,
    kind: opts.kind ?? 'tick-loop',
    limit: opts.maxConcurrentSteps,
    running: () => slots.used,
    onError: (error) => opts.onError('recording the worker failed', error),
  })
  // A predecessor on this host that died (this worker restarted): its scripts are stopped and its
  // attempts queued again before the first claim, so they run again now, not after the lease.
  await recover?.().catch((error: unknown) => opts.onError('recovering dead supervisors failed', error))
  loop.start()
  return {
    loop,
    supervisor,
    slots,
    wake,
    /**
     * Stops claiming, hands every running attempt back to the database (no retry is spent on a
     * clean shutdown), terminates the processes and waits, at most the grace period and a bit,
     * for their (now stale) reports.
     */
    async stop() {
      stopping = true
      await unsubscribe()
      await loop?.stop()
      const leases = supervisor.leases
      if (leases.length > 0) {
        const released = await store.releaseLeases(leases, Date.now())
        opts.onInfo?.(`handed ${released} running attempt(s) back; terminating their processes`)
        supervisor.terminateAll()
        let timer: NodeJS.Timeout | undefined
        const deadline = new Promise(
          (resolve) => (timer = setTimeout(resolve, opts.supervisor.graceMs + 2_000)),
        )
        await Promise.race([supervisor.idle(), deadline])
        clearTimeout(timer)
      }
      supervisor.stop()
      if (supervisor.running === 0) registry?.close()
      await presence.stop()
    },
  }
}

export type OneTickOptions = ClaimOptions

/**
 * `maxq tick`: one batch, then exit. The processes it starts are handed to one detached supervisor
 * that outlives this process and reports to the API; this process keeps no children, so its slot
 * pool is what the database says is free.
 */
export async function tickOnce(opts: OneTickOptions): Promise<TickReport> {
  const place = opts.registryDir === undefined ? null : await registryPlace(opts.store, opts.registryDir)
  // Before counting what runs: a dead supervisor's steps are not running any more.
  await recovery(opts, place, opts.onWarn ?? (() => {}))?.()
  const running = await opts.store.countRunningSteps()
  const slots = new SlotPool(opts.maxConcurrentSteps - running)
  // This process's own record while it claims and launches: killed between a claim's commit and
  // the launch, it leaves a record whose workerId names what it claimed, to be handed back at once.
  const own =
    place === null
      ? null
      : SupervisorRegistry.open({ place, workerId: opts.workerId, onError: opts.onWarn ?? (() => {}) })
  const report = await tick({
    store: opts.store,
    workerId: opts.workerId,
    jobs: opts.jobs,
    batchSize: opts.batchSize,
    slots,
    launch: (jobs) => {
      launchSupervisor({
        ...opts.supervisor,
        workerId: opts.workerId,
        ...(place === null ? {} : { registry: place }),
        jobs,
      })
    },
    now: () => Date.now(),
    reap: true,
    leaseMs: opts.leaseMs,
    ...(opts.maxLostAttempts === undefined ? {} : { maxLostAttempts: opts.maxLostAttempts }),
    schedules: new ScheduleKeeper({
      store: opts.store,
      flowsRoot: opts.jobs.flowsRoot,
      warn: opts.onWarn ?? (() => {}),
    }),
  }).finally(() => own?.close())
  await recordOneShotTick(
    opts.store,
    { limit: opts.maxConcurrentSteps, running: running + report.claimed },
    Date.now(),
  )
  return report
}
