// Moves a run through its lifecycle with store calls only, as the scheduler and supervisors would:
// claim a flow call or a step, then report its exit. No processes are spawned.

import type { ClaimedFlowCall, ClaimedStep, StageDefinition, Store } from '../../db/store.js'

const WORKER_ID = 'test-worker'

/** Claims the run's queued flow call (the run becomes running). */
export async function claimFlowCall(store: Store, runId: string): Promise<ClaimedFlowCall> {
  const claimed = await store.claimFlowCalls({ workerId: WORKER_ID, limit: 100 }, Date.now())
  const call = claimed.find((c) => c.runId === runId)
  if (!call) throw new Error(`no flow call of run ${runId} was claimable`)
  return call
}

/** Claims one ready step of the run. */
export async function claimStep(store: Store, runId: string, stepId: string): Promise<ClaimedStep> {
  const claimed = await store.claimReadySteps({ workerId: WORKER_ID, limit: 100 }, Date.now())
  const step = claimed.find((s) => s.runId === runId && s.stepId === stepId)
  if (!step) throw new Error(`step ${stepId} of run ${runId} was not claimable`)
  return step
}

/** Reports the end of a claimed attempt, as the supervisor would. */
export async function reportExit(store: Store, lease: string, exitCode: number): Promise<boolean> {
  const outcome = await store.recordExit(
    { lease, exitCode, signal: null, timedOut: false, stdout: '', stderr: '', startedAt: Date.now() },
    Date.now(),
  )
  return outcome.accepted
}

/** A run whose first flow call exited non-zero: the run is failed. */
export async function failRunByFlowExit(store: Store, runId: string): Promise<void> {
  const call = await claimFlowCall(store, runId)
  await reportExit(store, call.lease, 1)
}

/** Runs a one-stage final run to `completed`: flow call, one step of `stepName`, both exit 0. */
export async function completeRun(store: Store, runId: string, stepName: string): Promise<void> {
  const call = await claimFlowCall(store, runId)
  const scheduled = await store.scheduleStage(
    runId,
    { stage: 'only', final: true, steps: [{ id: 'only-step', name: stepName }] },
    Date.now(),
  )
  if (!scheduled.ok) throw new Error(`scheduling failed: ${scheduled.code}`)
  await reportExit(store, call.lease, 0)
  const step = await claimStep(store, runId, 'only-step')
  await reportExit(store, step.lease, 0)
}

/**
 * A new run whose first flow call posted `stage` and exited 0, at the times `now` answers in turn
 * (for tests that keep their own clock): the stage's ready steps are claimable.
 */
export async function runWithStage(store: Store, stage: StageDefinition, now: () => number): Promise<string> {
  const run = await store.createRun({ flowName: 'demo' }, now())
  const calls = await store.claimFlowCalls({ workerId: WORKER_ID, limit: 100 }, now())
  const call = calls.find((c) => c.runId === run.id)
  if (!call) throw new Error(`no flow call of run ${run.id} was claimable`)
  const scheduled = await store.scheduleStage(run.id, stage, now())
  if (!scheduled.ok) throw new Error(`scheduling failed: ${scheduled.code}`)
  await store.recordExit({ lease: call.lease, exitCode: 0 }, now())
  return run.id
}
