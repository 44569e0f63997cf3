import type { LeaseKey } from './store.js'

/**
 * The leases of this process's claimed steps whose stage had other steps when they were claimed
 * (PostgreSQL): their successes are recorded in one flight first (db/record-exit.ts), where a
 * step alone in its stage always settles it and is better sent the settling way at once. Known
 * only to the process that claimed; an end reported elsewhere takes the general path.
 */
export class SiblingMemo {
  // A lease whose end never comes back here (its process was reaped) stays; the bound keeps them
  // from adding up, and a forgotten lease costs its end the general path, nothing more.
  static readonly MAX_LEASES = 100_000
  readonly #leases = new Set<LeaseKey>()

  remember(lease: LeaseKey): void {
    if (this.#leases.size >= SiblingMemo.MAX_LEASES) this.#leases.clear()
    this.#leases.add(lease)
  }

  /** Whether the lease's step had siblings when claimed; forgets the lease. */
  take(lease: string): boolean {
    return this.#leases.delete(lease)
  }
}
