// The long-lived tick loop of `maxq tick --watch` and the local runner. Work starts through
// events: wake() runs the next tick at once (a handler changed state, PostgreSQL NOTIFY arrived,
// a supervised process ended). The interval is only the fallback for a missed wake-up: a timer tick
// asks one index-only question (store.findWork) and claims only when something is claimable. Lease
// reaping runs inside a tick, at most every `reapEveryMs`, and only when something is running.

import { tick, type TickDeps, type TickReport } from './tick.js'

export interface TickLoopOptions extends Omit<TickDeps, 'reap'> {
  intervalMs: number
  /** Least time between two lease reaps. */
  reapEveryMs: number
  onError?: (error: unknown) => void
  onTick?: (report: TickReport) => void
}

export class TickLoop {
  readonly #opts: TickLoopOptions
  #woken = false
  #lastReapAt = 0
  #stopped = false
  #sleeper: { timer: NodeJS.Timeout; resolve: () => void } | null = null
  #done: Promise<void> | null = null

  constructor(opts: TickLoopOptions) {
    this.#opts = opts
  }

  start(): void {
    if (this.#done) return
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
      if (this.#woken) {
        // Back to back: let I/O callbacks (exit reports, HTTP requests) run between two ticks.
        woken = true
        await new Promise((resolve) => setImmediate(resolve))
      } else {
        // A wake-up during the sleep ticks at once: ready work is what the sleep was waiting for.
        woken = await this.#sleep()
      }
    }
  }

  async #once(woken: boolean): Promise<TickReport | null> {
    const now = this.#opts.now()
    const reap = now - this.#lastReapAt >= this.#opts.reapEveryMs
    // A timer tick with nothing claimable, no schedule slot due and no reap to run (one is due and
    // something runs) stays one small query: while long scripts run, the interval claims nothing.
    const scheduleDue = this.#opts.schedules?.due(now) ?? false
    if (!woken && !scheduleDue) {
      const found = await this.#opts.store.findWork(now)
      if (!found.claimable && !(reap && found.running)) return null
    }
    if (reap) this.#lastReapAt = now
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
