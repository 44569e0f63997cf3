// What every handler can reach with `c.get(…)`. Handlers are stateless: everything they need is
// injected here by createApp, so any number of API processes can serve one database. (Hono's
// `c.var` copies every variable into a new object on each use; `c.get` reads one.)

import type { Catalog } from '../catalog/flow-catalog.js'
import type { RetryPolicy } from '../db/rules/decide-attempt.js'
import type { ApiStore } from '../db/store.js'
import type { RunTokens } from '../security/run-token.js'
import type { EventHub } from './events/event-hub.js'

export interface Clock {
  now(): number
}

export interface AppDeps {
  store: ApiStore
  /** The flows under FLOWS_ROOT (`<flow>/flow.sh`, `<flow>/steps/<name>/step.sh`): catalog/flow-catalog.ts. */
  catalog: Catalog
  /** Defaults to the wall clock; tests pass a fixed one. */
  clock?: Clock
  /** Called after a change that may make work ready (in-process tick loop, or NOTIFY). */
  wake?: (event?: WakeEvent) => void
  /** Largest request body accepted (MAXQ_MAX_BODY_BYTES); defaults to DEFAULT_MAX_BODY_BYTES. */
  maxBodyBytes?: number
  /** Largest fields post (MAXQ_MAX_FIELDS_BYTES); defaults to DEFAULT_MAX_FIELDS_BYTES. */
  maxFieldsBytes?: number
  /** MAXQ_RETRY_DELAY_SECONDS, MAXQ_RETRY_BACKOFF: for steps whose definition sets neither; defaults to DEFAULT_RETRY_POLICY. */
  retryDefaults?: RetryPolicy
  /** MAXQ_API_TOKEN: when set, every route but /health needs it or a run token (handlers/auth/). */
  apiToken?: string
  /** MAXQ_METRICS_PUBLIC: GET /metrics is open to anyone, as /health is. */
  metricsPublic?: boolean
  /** Checks run tokens; by default made from the store's key on first use. */
  runTokens?: RunTokens
  /** Given, every request is told here when answered (`LOG_LEVEL=debug`): method, path, status, ms. */
  requestLog?: (line: string) => void
  /** Where unexpected errors are written; defaults to stderr. */
  logger?: (line: string) => void
  /** The process's poller for the event streams (handlers/events/); by default one per app. */
  events?: EventHub
}

/** 'work': something may be claimable. 'abort': leases were taken away, so supervisors should check theirs. */
export type WakeEvent = 'work' | 'abort'

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024
export const DEFAULT_MAX_FIELDS_BYTES = 8 * 1024 * 1024

/** Who made a request: the operator (API token), a run's own script (run token), or anyone. */
export type Caller = { kind: 'admin' } | { kind: 'anonymous' } | { kind: 'run'; runId: string }

export interface AppEnv {
  Variables: {
    caller: Caller
    /** MAXQ_API_TOKEN is set: what only the operator may see (GET /health's hosts) needs it. */
    apiTokenRequired: boolean
    store: ApiStore
    clock: Clock
    wake: (event?: WakeEvent) => void
    catalog: Catalog
    maxBodyBytes: number
    maxFieldsBytes: number
    retryDefaults: RetryPolicy
    events: EventHub
  }
}
