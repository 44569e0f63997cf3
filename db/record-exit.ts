// The store's recordExit: an attempt's end and the claim that rides with it, in one transaction. On
// PostgreSQL a success of a step that had siblings when this process claimed it goes in one flight
// while one of them is still open (most ends of a fan-out or a chain); the last one settles.

import { claimedFlowCalls, claimRunFlowCallsAtCommit } from './queries/claim-flow-calls.js'
import { claimedSteps, claimReadyStepsAtCommit } from './queries/claim-ready-steps.js'
import { recordFlowExit } from './queries/record-flow-exit.js'
import {
  completeBesideOpenSibling,
  recordStepExit,
  succeeded,
  type StepAttemptEnd,
} from './queries/record-step-exit.js'
import type { InTx, Tx } from './queries/tx.js'
import { parseLease, type ParsedLease } from './rules/lease-key.js'
import type { SiblingMemo } from './sibling-memo.js'
import type { Dialect, Tail } from './sql-executor.js'
import type { ClaimedFlowCall, ClaimLimits, ExitOutcome, ExitReport, WorkClaim } from './store.js'

export function exitRecorder(
  d: Dialect,
  inTx: InTx,
  rememberRuns: (calls: ClaimedFlowCall[]) => ClaimedFlowCall[],
  siblings: SiblingMemo,
): (report: ExitReport, now: number, claim?: WorkClaim) => Promise<ExitOutcome> {
  const limits = (claim: WorkClaim, limit: number): ClaimLimits => ({ workerId: claim.workerId, limit })

  /**
   * Any end, in a transaction of its own flights. It wakes other processes only for what it
   * changed: work made claimable, or leases revoked (see the queries). With a claim, the worker
   * fills its free slots (the one a step's end frees among them) in the same transaction, last,
   * with the COMMIT: ready steps, and the run's callback when the end made it claimable.
   */
  const recordEnd = async (
    report: ExitReport,
    lease: ParsedLease,
    now: number,
    claim: WorkClaim | undefined,
  ): Promise<ExitOutcome> => {
    const end = { ...report, attempt: lease.attempt, runId: lease.runId }
    let leasesRevoked = false
    let madeWork = false
    let claims: { flowCalls: Tail | null; steps: Tail } | undefined
    const accepted = await inTx(async (tx) => {
      const watched: Tx = {
        ...tx,
        wake: (event) => {
          if (event === 'abort') leasesRevoked = true
          else madeWork = true
          // The claim below may take what the end released: others hear of what it leaves.
          tx.wake(event === 'work' && claim !== undefined ? 'work-left' : event)
        },
      }
      const accepted =
        lease.kind === 'step'
          ? await recordStepExit(watched, { ...end, stepId: lease.stepId }, now)
          : await recordFlowExit(watched, { ...end, callId: lease.callId }, now)
      if (claim !== undefined) {
        claims = {
          // Queued after the end's own tail, so it sees the callback the end queued.
          flowCalls: madeWork
            ? claimRunFlowCallsAtCommit(tx, end.runId, limits(claim, claim.flowCallLimit), now)
            : null,
          steps: claimReadyStepsAtCommit(tx, limits(claim, claim.stepLimit), now),
        }
      }
      return accepted
    })
    if (claims === undefined) return { accepted, leasesRevoked }
    const claimed = {
      flowCalls: claims.flowCalls === null ? [] : rememberRuns(claimedFlowCalls(claims.flowCalls)),
      steps: claimedSteps(claims.steps, siblings),
    }
    return { accepted, leasesRevoked, claimed }
  }

  /**
   * PostgreSQL, a step's success beside an open sibling (completeBesideOpenSibling), with the
   * claim: one flight. Work it released and its claim left is told to other processes after the
   * commit: a NOTIFY inside would be sent before the release was known.
   */
  const completeInOneFlight = async (end: StepAttemptEnd, now: number, claim: WorkClaim | undefined) => {
    let steps: Tail | undefined
    const sent = await inTx(async (tx) => {
      const ending = completeBesideOpenSibling(tx, end, now)
      if (claim !== undefined) steps = claimReadyStepsAtCommit(tx, limits(claim, claim.stepLimit), now)
      return ending
    })
    const ended = await sent.answer()
    const claimed = steps === undefined ? undefined : claimedSteps(steps, siblings)
    const tookAll = claim !== undefined && claimed !== undefined && claimed.length < claim.stepLimit
    if (ended.released > 0 && !tookAll) await d.notify('work')
    return { ...ended, claimed }
  }

  return async (report, now, claim) => {
    const lease = parseLease(report.lease)
    if (lease === null) return { accepted: false, leasesRevoked: false }
    const besideSiblings = siblings.take(report.lease)
    if (lease.kind !== 'step' || d.name !== 'postgres' || !besideSiblings || !succeeded(report)) {
      return recordEnd(report, lease, now, claim)
    }
    const ended = await completeInOneFlight({ ...report, ...lease }, now, claim)
    const taken = ended.claimed ?? []
    if (!ended.last) {
      const claimed = claim && { flowCalls: [], steps: taken }
      return { accepted: ended.accepted, leasesRevoked: false, claimed }
    }
    // The stage's last open step: recorded with its settle, claiming for the slots still free.
    const rest = claim && { ...claim, stepLimit: claim.stepLimit - taken.length }
    const settled = await recordEnd(report, lease, now, rest)
    if (settled.claimed === undefined) return settled
    return { ...settled, claimed: { ...settled.claimed, steps: [...taken, ...settled.claimed.steps] } }
  }
}
