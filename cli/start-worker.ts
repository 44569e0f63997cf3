import type { Store } from '../db/store.js'
import type { WorkerKind } from '../db/types.js'
import { startRetentionTimer } from '../scheduler/retention-sweep.js'
import { startWorker as start, type Worker } from '../scheduler/worker.js'
import type { Config } from './config.js'
import { jobContext } from './job-context.js'
import { errorText, type Logger } from './log.js'

export type RunningWorker = Worker

const REAP_EVERY_MS = 5_000

/**
 * `maxq tick --watch` and the local runner: the configuration wired to one worker
 * (scheduler/worker.ts), which owns the slots, the claims and the launches.
 */
export async function startWorker(
  config: Config,
  store: Store,
  log: Logger,
  kind: WorkerKind = 'tick-loop',
): Promise<RunningWorker> {
  const worker = await start({
    store,
    workerId: config.workerId,
    kind,
    jobs: await jobContext(config, store),
    batchSize: config.batchSize,
    maxConcurrentSteps: config.maxConcurrentSteps,
    leaseMs: config.leaseMs,
    maxLostAttempts: config.maxLostAttempts,
    registryDir: config.runtimeDir,
    intervalMs: config.intervalMs,
    reapEveryMs: REAP_EVERY_MS,
    supervisor: {
      apiBase: config.apiBase,
      apiToken: config.apiToken,
      graceMs: config.abortGraceMs,
      spawner: config.spawner,
    },
    onError: (what, error) => log.error(`${what}: ${errorText(error)}`),
    onInfo: (message) => log.info(message),
    onWarn: (message) => log.warn(message),
    onTick: (report) => {
      if (report.reaped > 0) log.warn(`reaped ${report.reaped} expired lease(s)`)
    },
  })
  const retentionDays = config.retentionDays
  if (retentionDays === undefined) return worker
  // Retention runs on its own minute timer beside the loop (scheduler/retention-sweep.ts).
  const retention = startRetentionTimer({
    store,
    retentionDays,
    now: () => Date.now(),
    onSwept: (deleted) =>
      log.info(`retention: deleted ${deleted} run(s) finished over ${retentionDays} day(s) ago`),
    onError: (error) => log.error(`retention sweep failed: ${errorText(error)}`),
  })
  return {
    ...worker,
    async stop() {
      await retention.stop()
      await worker.stop()
    },
  }
}
