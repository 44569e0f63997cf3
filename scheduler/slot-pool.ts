// A worker's step slots: MAXQ_MAX_CONCURRENT_STEPS, one pool for every claim the worker makes (its
// loop's ticks and the claims its step exits carry). A slot is free, held by a claim in flight, or
// taken by a launched step until its process ends. Flow calls take no slot.

import type { LeaseKey } from '../db/store.js'

export class SlotPool {
  readonly limit: number
  readonly #running = new Set<LeaseKey>()
  #held = 0

  constructor(limit: number) {
    this.limit = Math.max(0, limit)
  }

  /** Slots held by claims in flight plus slots taken by running steps. Never above `limit`. */
  get used(): number {
    return this.#running.size + this.#held
  }

  /** Holds up to `max` free slots for a claim about to be made; answers how many it holds. */
  hold(max: number): number {
    const held = Math.max(0, Math.min(max, this.limit - this.used))
    this.#held += held
    return held
  }

  /**
   * A step's process ended and its exit is being reported: its slot is held for the claim that
   * report carries (1), unless the step was not running here, or its slot was handed over already
   * (a report sent again) (0).
   */
  handOver(lease: LeaseKey): number {
    if (!this.#running.delete(lease)) return 0
    this.#held++
    return 1
  }

  /** A claim that held `held` slots is in: its steps take their slots, the rest are free again. */
  launched(held: number, leases: readonly LeaseKey[]): void {
    if (leases.length > held)
      throw new Error(`maxq: a claim holding ${held} slot(s) took ${leases.length} steps`)
    this.#held -= held
    for (const lease of leases) this.#running.add(lease)
  }

  /** A step's process ended (its slot not handed over): the slot is free. */
  ended(lease: LeaseKey): void {
    this.#running.delete(lease)
  }
}
