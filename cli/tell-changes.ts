// `maxq start` runs the tick loop beside the API in one process: its claims and the exits its
// supervisors record go to the store directly, not through the API, so nothing would wake the API's
// event streams (handlers/events/) but their 1 s fallback read. This store tells them after each
// write the worker makes; without an open stream the call is a no-op.

import type { Store } from '../db/store.js'

/** The worker's writes that change what an event stream shows. */
const WRITES = [
  'claimWork',
  'claimReadySteps',
  'claimFlowCalls',
  'recordExit',
  'reapExpiredLeases',
  'reapLostLeases',
  'releaseLeases',
  'startScheduledRun',
] as const

export function tellChanges(store: Store, changed: () => void): Store {
  const told: Store = { ...store }
  for (const name of WRITES) {
    const write = store[name] as ((...args: unknown[]) => Promise<unknown>) | undefined
    if (typeof write !== 'function') continue
    // Each is `(…) => Promise`; the cast keeps one wrapper for all of them.
    ;(told as unknown as Record<string, unknown>)[name] = async (...args: unknown[]) => {
      const answer = await write(...args)
      changed()
      return answer
    }
  }
  return told
}
