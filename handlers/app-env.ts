// What every handler can reach through `c.var`. Handlers are stateless: everything they need is
// injected here by createApp, so any number of API processes can serve one database.

import type { Store } from '../db/store.js'

export interface Clock {
  now(): number
}

export interface AppDeps {
  store: Store
  /** Directory holding `<flow>/flow.sh` and `<flow>/steps/<name>/step.sh`. */
  flowsRoot: string
  /** Defaults to the wall clock; tests pass a fixed one. */
  clock?: Clock
  /** Called after a change that may make work ready (in-process tick loop, or NOTIFY). */
  wake?: (event?: WakeEvent) => void
  /** Largest request body accepted; defaults to DEFAULT_MAX_BODY_BYTES. */
  maxBodyBytes?: number
  /** Where unexpected errors are written; defaults to stderr. */
  logger?: (line: string) => void
}

/** 'work': something may be claimable. 'abort': leases were taken away, so supervisors should check theirs. */
export type WakeEvent = 'work' | 'abort'

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024

export interface AppEnv {
  Variables: {
    store: Store
    clock: Clock
    wake: (event?: WakeEvent) => void
    flowsRoot: string
    maxBodyBytes: number
  }
}
