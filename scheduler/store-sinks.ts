// A worker holds the store it claims from, so its supervisor records exits and renews leases there
// directly: no HTTP request and no JSON round trip per exit, and a worker keeps its books while no
// API process is up. (A one-shot tick's detached supervisor has no store: it reports over HTTP.)
// An exit can also carry the worker's claim for the slots it frees, answered with its commit.

import type { ClaimedWork, LeaseKey, WorkClaim, WorkerStore } from '../db/store.js'
import { recordAttemptEnd } from '../metrics/process-metrics.js'
import type { ReportSinks } from '../runtime/report-exit.js'

export interface StoreSinkOptions {
  now: () => number
  /** An exit stopped other running work (a failed flow call fails its run): check the leases. */
  onLeasesRevoked: () => void
  /** The claim an exit of this lease makes in its own transaction, if any. */
  claimFor?: (lease: LeaseKey) => WorkClaim | undefined
  /**
   * What the exit's claim took, before the exit counts as reported: the worker starts it and frees
   * the slots the claim held and did not fill. `null` when the exit failed (its claim took nothing).
   */
  claimed?: (lease: LeaseKey, claim: WorkClaim, work: ClaimedWork | null) => void
}

/** The same store calls the `/leases/exit` and `/leases/heartbeat` handlers make. */
export function storeSinks(store: WorkerStore, opts: StoreSinkOptions): ReportSinks {
  return {
    exit: async (body) => {
      const claim = opts.claimFor?.(body.lease)
      let claimed: ClaimedWork | null = null
      try {
        const now = opts.now()
        const outcome = await store.recordExit(body, now, claim)
        if (outcome.accepted) recordAttemptEnd(body.lease, body.exitCode, body.startedAt, now)
        claimed = outcome.claimed ?? { flowCalls: [], steps: [] }
        if (outcome.leasesRevoked) opts.onLeasesRevoked()
        return { accepted: outcome.accepted }
      } finally {
        if (claim !== undefined) opts.claimed?.(body.lease, claim, claimed)
      }
    },
    heartbeat: (body) => store.heartbeat(body.workerId, body.leases, opts.now()),
  }
}
