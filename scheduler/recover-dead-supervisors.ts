// Fast recovery on this host: a worker that finds a dead supervisor's record in the registry has its
// scripts killed (runtime/dead-supervisors.ts) and, once nothing of them runs, hands its leases back
// as lost at once (db/queries/reap-expired-leases.ts reapLostLeases): a restarted worker's attempts
// run again within a tick of the restart, not after MAXQ_LEASE_MS, and never beside their orphans.
// Every worker does it at start and with its lease reaping; a one-shot `maxq tick` at each tick.

import { createHash } from 'node:crypto'
import type { WorkerStore } from '../db/store.js'
import { flowLease, parseLease, stepLease, type ParsedLease } from '../db/rules/lease-key.js'
import { forgetDeadSupervisor, stopDeadSupervisors } from '../runtime/dead-supervisors.js'
import type { RegistryPlace } from '../runtime/supervisor-registry.js'

export interface Recovered {
  /** Dead supervisors whose records were settled. */
  supervisors: number
  /** Process groups killed. */
  killed: number
  /** Attempts handed back as lost (the others had ended already). */
  reaped: number
}

/**
 * The registry place of this database: records name the database by a digest of its run-token key
 * (made once per database, db/queries/run-token-key.ts), so that two installations on one host, or
 * the tests' many databases, never hand back each other's leases, whatever URL reaches them.
 */
export async function registryPlace(
  store: Pick<WorkerStore, 'runTokenKey'>,
  dir: string,
): Promise<RegistryPlace> {
  const key = await store.runTokenKey()
  const scope = createHash('sha256').update(`maxq supervisor registry\n${key}`).digest('hex').slice(0, 24)
  return { dir, scope }
}

export async function recoverDeadSupervisors(
  store: Pick<WorkerStore, 'reapLostLeases' | 'runningLeasesOf'>,
  place: RegistryPlace,
  now: () => number,
  maxLostAttempts?: number,
): Promise<Recovered> {
  const recovered: Recovered = { supervisors: 0, killed: 0, reaped: 0 }
  for (const dead of await stopDeadSupervisors(place)) {
    const leases = new Map<string, ParsedLease>()
    for (const lease of dead.leases.map(parseLease)) if (lease !== null) leases.set(leaseKey(lease), lease)
    // What it had claimed and not yet started (killed between a claim's commit and the spawn).
    if (dead.worker !== null) {
      for (const lease of await store.runningLeasesOf(dead.worker)) leases.set(leaseKey(lease), lease)
    }
    recovered.reaped += await store.reapLostLeases([...leases.values()], now(), maxLostAttempts)
    // Only once the leases are handed back: a failed reap leaves the record for the next look.
    forgetDeadSupervisor(dead)
    recovered.supervisors++
    recovered.killed += dead.killed
  }
  return recovered
}

/** One line for a worker's log. */
export function describeRecovery(recovered: Recovered): string {
  return (
    `${recovered.supervisors} supervisor(s) on this host had died: killed ${recovered.killed} ` +
    `process group(s) they left, and queued ${recovered.reaped} of their attempt(s) again`
  )
}

function leaseKey(lease: ParsedLease): string {
  return lease.kind === 'step'
    ? stepLease(lease.runId, lease.stepId, lease.attempt)
    : flowLease(lease.runId, lease.callId, lease.attempt)
}
