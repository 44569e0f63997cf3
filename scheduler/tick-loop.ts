// The long-lived tick loop of `maxq tick --watch` and the local runner. Work starts through
// events: wake() runs the next tick at once (a handler changed state, PostgreSQL NOTIFY arrived,
// a supervised process ended). The interval is only the fallback for a missed wake-up, and an idle
// interval costs one index-only query (store.hasWork). node-cron marks lease reaping due every few
// seconds; the reap itself runs inside a tick.

import cron from 'node-cron'
import { tick, type TickDeps, type TickReport } from './tick.js'

export interface TickLoopOptions extends Omit<TickDeps, 'reap'> {
  intervalMs: number
  /** Seconds between lease reaps (a node-cron seconds field: 1..59). */
  reapEverySeconds: number
  onError?: (error: unknown) => void
  onTick?: (report: TickReport) => void
}

export class TickLoop {
  readonly #opts: TickLoopOptions
  #woken = false
  #reapDue = true
  #stopped = false
  #sleeper: { timer: NodeJS.Timeout; resolve: () => void } | null = null
  #cron: ReturnType<typeof cron.schedule> | null = null
  #done: Promise<void> | null = null

  constructor(opts: TickLoopOptions) {
    this.#opts = opts
  }

  start(): void {
    if (this.#done) return
    this.#cron = cron.schedule(`*/${this.#opts.reapEverySeconds} * * * * *`, () => {
      this.#reapDue = true
    })
    this.#done = this.#run()
  }

  /** Something may be ready: tick as soon as the current tick (if any) ends. */
  wake(): void {
    this.#woken = true
    const sleeper = this.#sleeper
    if (sleeper) {
      this.#sleeper = null
      clearTimeout(sleeper.timer)
      sleeper.resolve()
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true
    await this.#cron?.stop()
    await this.#cron?.destroy()
    this.wake()
    await this.#done
  }

  async #run(): Promise<void> {
    let woken = true
    while (!this.#stopped) {
      this.#woken = false
      try {
        const report = await this.#once(woken)
        if (report?.full) this.#woken = true
      } catch (error) {
        this.#opts.onError?.(error)
      }
      if (this.#stopped) break
      woken = this.#woken || (await this.#sleep())
      // Let I/O callbacks (exit reports, HTTP requests) run between back-to-back ticks.
      if (woken) await new Promise((resolve) => setImmediate(resolve))
    }
  }

  async #once(woken: boolean): Promise<TickReport | null> {
    const now = this.#opts.now()
    // A timer tick with nothing claimable or running (so nothing to reap) stays one small query.
    if (!woken && !(await this.#opts.store.hasWork(now))) return null
    const reap = this.#reapDue
    this.#reapDue = false
    const report = await tick({ ...this.#opts, reap })
    this.#opts.onTick?.(report)
    return report
  }

  /** Waits for the interval; answers true when a wake-up ended the wait early. */
  #sleep(): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#sleeper = null
        resolve(false)
      }, this.#opts.intervalMs)
      this.#sleeper = { timer, resolve: () => resolve(true) }
    })
  }
}
