// A worker in the API's process claims in the commit of the change that made the work: a trigger
// takes its first callback, a stage post its ready steps. What the worker relies on: what it is
// handed is claimed (and running) in the database, never more steps than it asked for, nothing
// for a change that failed, and its held slots back when the change rolls back.

import { describe, expect, it } from 'vitest'
import type { ClaimedWork, LocalWorker, Store, WorkClaim } from '../../db/store.js'
import { testDatabases } from '../support/dialects.js'
import { storePerTest } from '../support/store-per-test.js'

interface Recorder extends LocalWorker {
  asked: number
  handed: Array<{ claim: WorkClaim; work: ClaimedWork }>
}

function recorder(claim: WorkClaim): Recorder {
  const rec: Recorder = {
    asked: 0,
    handed: [],
    claim: () => {
      rec.asked++
      return claim
    },
    taken: (held, work) => rec.handed.push({ claim: held, work }),
  }
  return rec
}

describe.each(testDatabases)('claims in a change’s commit on $name', (database) => {
  let store: Store
  storePerTest(database, (opened) => (store = opened))
  let now = 3_000_000
  const tick = () => ++now
  const claim = { workerId: 'local', stepLimit: 2, flowCallLimit: 10 }
  const stage = (ids: string[], dependsOn: string[] = []) => ({
    stage: 'one',
    final: true,
    steps: ids.map((id) => ({ id, name: 's', dependsOn })),
  })

  /** A run whose first callback is running, so a stage can be posted to it. */
  async function openRun(): Promise<string> {
    const run = await store.createRun({ flowName: 'demo' }, tick())
    await store.claimFlowCalls({ workerId: 'other', limit: 10 }, tick())
    return run.id
  }

  it('hands a trigger its first callback, claimed, with the run started', async () => {
    const worker = recorder(claim)
    store.attachWorker(worker)
    const run = await store.createRun({ flowName: 'demo' }, tick())
    expect(worker.handed).toHaveLength(1)
    const work = worker.handed[0]!.work
    expect(work.flowCalls.map((call) => [call.runId, call.completedStage])).toEqual([[run.id, null]])
    expect((await store.getRun(run.id))?.status).toBe('running')
    const calls = await store.listFlowCalls(run.id)
    expect(calls.ok && calls.value.map((call) => call.status)).toEqual(['running'])
  })

  it('hands a stage post its ready steps, no more than the claim allows', async () => {
    const runId = await openRun()
    const worker = recorder(claim)
    store.attachWorker(worker)
    expect((await store.scheduleStage(runId, stage(['x', 'y', 'z']), tick())).ok).toBe(true)
    expect(worker.handed.map(({ work }) => work.steps.map((step) => step.stepId))).toEqual([['x', 'y']])
    const steps = await store.listSteps(runId)
    expect(steps.ok && steps.value.map((step) => [step.id, step.status, step.workerId])).toEqual([
      ['x', 'running', 'local'],
      ['y', 'running', 'local'],
      ['z', 'pending', null],
    ])
    // What the worker did not take is still there for the loop.
    const rest = await store.claimReadySteps({ workerId: 'loop', limit: 10 }, tick())
    expect(rest.map((step) => step.stepId)).toEqual(['z'])
  })

  it('asks nothing of the worker for a change that failed', async () => {
    const runId = await openRun()
    const worker = recorder(claim)
    store.attachWorker(worker)
    const outcome = await store.scheduleStage(runId, stage(['a'], ['missing']), tick())
    expect(outcome.ok).toBe(false)
    expect([worker.asked, worker.handed]).toEqual([0, []])
  })

  it('gives the held slots back when the change rolls back, and keeps nothing of it', async () => {
    const runId = await openRun()
    // A limit the database rejects makes the claim fail inside the post's transaction.
    const worker = recorder({ ...claim, stepLimit: 0.5 })
    store.attachWorker(worker)
    await expect(store.scheduleStage(runId, stage(['a']), tick())).rejects.toThrow()
    expect(worker.handed).toEqual([
      { claim: { ...claim, stepLimit: 0.5 }, work: { flowCalls: [], steps: [] } },
    ])
    const steps = await store.listSteps(runId)
    expect(steps.ok && steps.value).toEqual([])
  })

  it('claims nothing once the worker is detached', async () => {
    const runId = await openRun()
    const worker = recorder(claim)
    const detach = store.attachWorker(worker)
    detach()
    expect((await store.scheduleStage(runId, stage(['a']), tick())).ok).toBe(true)
    expect(worker.asked).toBe(0)
    const steps = await store.listSteps(runId)
    expect(steps.ok && steps.value.map((step) => step.status)).toEqual(['pending'])
  })
})
