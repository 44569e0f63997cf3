import type { Store } from '../db/store.js'
import type { TickReport } from '../scheduler/tick.js'
import { sweepRetention } from '../scheduler/retention-sweep.js'
import { tickOnce } from '../scheduler/worker.js'
import type { Config } from './config.js'
import { jobContext } from './job-context.js'

/**
 * `maxq tick`: the configuration wired to one tick (scheduler/worker.ts tickOnce), then, with
 * MAXQ_RETENTION_DAYS, one retention batch (`pruned`: runs deleted).
 */
export async function runOneTick(
  config: Config,
  store: Store,
  onWarn?: (message: string) => void,
): Promise<TickReport & { pruned: number }> {
  const report = await tickOnce({
    store,
    workerId: config.workerId,
    jobs: await jobContext(config, store),
    batchSize: config.batchSize,
    maxConcurrentSteps: config.maxConcurrentSteps,
    leaseMs: config.leaseMs,
    maxLostAttempts: config.maxLostAttempts,
    registryDir: config.runtimeDir,
    supervisor: {
      apiBase: config.apiBase,
      apiToken: config.apiToken,
      graceMs: config.abortGraceMs,
      spawner: config.spawner,
    },
    ...(onWarn === undefined ? {} : { onWarn }),
  })
  const pruned =
    config.retentionDays === undefined ? 0 : await sweepRetention(store, config.retentionDays, Date.now())
  return { ...report, pruned }
}
