import type { AbortOutcome } from '../store.js'
import { fail, ok, type Outcome } from '../types.js'
import { endRun } from './end-run.js'
import { stopOutlivedFlowCalls } from './outlived-flow-call.js'
import { isRunActive, lockRun, type Tx } from './tx.js'

/**
 * Fails all open work with terminationReason `aborted`. Processes are not signalled here (a handler
 * never does that): their leases are lost now, and each supervisor terminates its process group
 * (SIGTERM, grace, SIGKILL) on its next heartbeat, which the abort wakes at once where it can.
 */
export async function abortRun(tx: Tx, runId: string, now: number): Promise<Outcome<AbortOutcome>> {
  const run = await lockRun(tx, runId)
  if (run === null) return fail('RUN_NOT_FOUND', { runId })
  if (!isRunActive(run.status)) {
    // A completed run's flow call may still be running (db/queries/outlived-flow-call.ts): an abort
    // ends its grace now, and its supervisor terminates it as it would after the grace.
    const told = await stopOutlivedFlowCalls(tx, runId, now)
    const message = `Run is already ${String(run.status)}${told > 0 ? '; its flow call still running is stopped' : ''}`
    return ok({ message, processesKilled: told, alreadyCompleted: true })
  }
  const processesKilled = await endRun(
    tx,
    runId,
    {
      status: 'failed',
      terminationReason: 'aborted',
      error: { reason: 'aborted' },
      pendingStepsBecome: 'failed',
    },
    now,
  )
  return ok({ message: 'Run aborted', processesKilled, alreadyCompleted: false })
}
