import type { Store } from '../db/store.js'
import { launchSupervisor } from '../runtime/launch-supervisor.js'
import { tick, type TickReport } from '../scheduler/tick.js'
import type { Config } from './config.js'
import { jobContext } from './job-context.js'

/**
 * `maxq tick`: one batch, then exit. The processes it starts are handed to one detached supervisor
 * that outlives this process and reports to the API; the concurrency limit is counted in the
 * database, since this process keeps no children.
 */
export async function runOneTick(config: Config, store: Store): Promise<TickReport> {
  return tick({
    store,
    workerId: config.workerId,
    jobs: await jobContext(config, store),
    batchSize: config.batchSize,
    holdSlots: async (max) => Math.min(max, config.maxConcurrentSteps - (await store.countRunningSteps())),
    launch: (jobs) => {
      launchSupervisor({
        apiBase: config.apiBase,
        apiToken: config.apiToken,
        workerId: config.workerId,
        graceMs: config.abortGraceMs,
        spawner: config.spawner,
        jobs,
      })
    },
    now: () => Date.now(),
    reap: true,
    leaseMs: config.leaseMs,
  })
}
