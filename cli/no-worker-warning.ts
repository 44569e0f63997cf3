// `maxq serve` runs the API only: with open runs and no live worker (db/queries/workers.ts) nothing
// ever starts them. Every CHECK_EVERY_MS (or a third of the threshold, when that is shorter) it
// asks the database; after MAXQ_NO_WORKER_WARNING_MS (default NO_WORKER_WARN_AFTER_MS) of open
// runs with no worker it warns, saying how to start one, at most every REPEAT_WARN_MS, and it says
// so when a worker appears again. Reads only: no commit on an idle PostgreSQL.

import type { ApiStore } from '../db/store.js'
import { errorText, type Logger } from './log.js'

export const CHECK_EVERY_MS = 10_000
export const NO_WORKER_WARN_AFTER_MS = 30_000
export const REPEAT_WARN_MS = 5 * 60_000

export interface WorkerWatch {
  openRuns: number
  liveWorkers: number
}

export type WatchSay = { level: 'warn' | 'info'; message: string } | null

/** The decision, on plain values: what to say now, if anything. */
export class NoWorkerWarning {
  #since: number | null = null
  #warnedAt: number | null = null

  constructor(readonly warnAfterMs = NO_WORKER_WARN_AFTER_MS) {}

  observe(now: number, watch: WorkerWatch): WatchSay {
    if (watch.liveWorkers > 0) {
      const warned = this.#warnedAt !== null
      this.#since = null
      this.#warnedAt = null
      return warned
        ? {
            level: 'info',
            message: `a worker is alive again (${watch.liveWorkers} live): open runs will start`,
          }
        : null
    }
    if (watch.openRuns === 0) {
      this.#since = null
      return null
    }
    this.#since ??= now
    if (now - this.#since < this.warnAfterMs) return null
    if (this.#warnedAt !== null && now - this.#warnedAt < REPEAT_WARN_MS) return null
    this.#warnedAt = now
    const seconds = Math.round((now - this.#since) / 1000)
    return {
      level: 'warn',
      message:
        `${watch.openRuns === 1 ? 'a run is' : 'runs are'} waiting and no worker has been seen for ${seconds} s: ` +
        'maxq serve runs the API only. Start a worker with `maxq tick --watch` (same configuration), ' +
        'or run `maxq tick` from cron or a systemd timer (README "Running ticks from cron or systemd")',
    }
  }
}

/** Wires the decision to a timer; answers a stop function. */
export function watchForWorkers(
  store: ApiStore,
  log: Logger,
  warnAfterMs = NO_WORKER_WARN_AFTER_MS,
): () => void {
  const warning = new NoWorkerWarning(warnAfterMs)
  const everyMs = Math.min(CHECK_EVERY_MS, Math.max(100, Math.floor(warnAfterMs / 3)))
  const check = async (): Promise<void> => {
    const now = Date.now()
    const page = { limit: 1, offset: 0, sortBy: 'createdAt', sortOrder: 'desc' } as const
    const [workers, pending, running] = await Promise.all([
      store.listLiveWorkers(now),
      store.listRuns({ ...page, status: 'pending' }),
      store.listRuns({ ...page, status: 'running' }),
    ])
    const say = warning.observe(now, { openRuns: pending.total + running.total, liveWorkers: workers.length })
    if (say !== null) log[say.level](say.message)
  }
  const timer = setInterval(() => {
    check().catch((error: unknown) => log.debug(`worker check failed: ${errorText(error)}`))
  }, everyMs)
  timer.unref()
  return () => clearInterval(timer)
}
