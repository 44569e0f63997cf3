// A worker's exit report can carry its claim for the slot the exit frees: the claims run last in
// the exit's transaction. What the worker relies on: the step the exit released and the callback
// it queued are claimed (and running) when the report is answered, and never more steps than asked.

import { describe, expect, it } from 'vitest'
import type { Store } from '../../db/store.js'
import { testDatabases } from '../support/dialects.js'
import { storePerTest } from '../support/store-per-test.js'

describe.each(testDatabases)('exit claims on $name', (database) => {
  let store: Store
  storePerTest(database, (opened) => (store = opened))
  let now = 2_000_000
  const tick = () => ++now
  const claim = { workerId: 'w', stepLimit: 1, flowCallLimit: 10 }

  async function runWith(steps: { id: string; dependsOn?: string[] }[]) {
    const run = await store.createRun({ flowName: 'demo' }, tick())
    const [call] = await store.claimFlowCalls({ workerId: 'w', limit: 10 }, tick())
    const stage = { stage: 'one', final: false, steps: steps.map((step) => ({ ...step, name: 's' })) }
    expect((await store.scheduleStage(run.id, stage, tick())).ok).toBe(true)
    await store.recordExit({ lease: call!.lease, exitCode: 0 }, tick())
    return run.id
  }

  it('claims the step the exit released, then the callback the stage end queued', async () => {
    const runId = await runWith([{ id: 'a' }, { id: 'b', dependsOn: ['a'] }])
    const [a] = await store.claimReadySteps({ workerId: 'w', limit: 10 }, tick())
    expect(a?.stepId).toBe('a')

    const afterA = await store.recordExit({ lease: a!.lease, exitCode: 0 }, tick(), claim)
    expect(afterA.accepted).toBe(true)
    expect(afterA.claimed?.flowCalls).toEqual([])
    expect(afterA.claimed?.steps.map((step) => [step.stepId, step.attempt])).toEqual([['b', 1]])
    const b = await store.getStep(runId, 'b')
    expect(b.ok && [b.value.status, b.value.attempt]).toEqual(['running', 1])

    const afterB = await store.recordExit(
      { lease: afterA.claimed!.steps[0]!.lease, exitCode: 0 },
      tick(),
      claim,
    )
    expect(afterB.claimed?.steps).toEqual([])
    expect(afterB.claimed?.flowCalls.map((call) => [call.runId, call.completedStage])).toEqual([
      [runId, 'one'],
    ])
    const calls = await store.listFlowCalls(runId)
    expect(calls.ok && calls.value.map((call) => call.status)).toEqual(['completed', 'running'])
  })

  it("claims its own run's callback only: other runs' calls are left to the ticks", async () => {
    const runId = await runWith([{ id: 'last' }])
    const [last] = await store.claimReadySteps({ workerId: 'w', limit: 1 }, tick())
    const other = await store.createRun({ flowName: 'demo' }, tick())
    const outcome = await store.recordExit({ lease: last!.lease, exitCode: 0 }, tick(), claim)
    expect(outcome.claimed?.flowCalls.map((call) => call.runId)).toEqual([runId])
    const waiting = await store.listFlowCalls(other.id)
    expect(waiting.ok && waiting.value.map((call) => call.status)).toEqual(['queued'])
  })

  it('takes no more ready steps than its limit', async () => {
    const runId = await runWith([{ id: 'x' }, { id: 'y' }, { id: 'z' }])
    const [first] = await store.claimReadySteps({ workerId: 'w', limit: 1 }, tick())
    const outcome = await store.recordExit({ lease: first!.lease, exitCode: 0 }, tick(), claim)
    expect(outcome.claimed?.steps).toHaveLength(1)
    const steps = await store.listSteps(runId)
    const statuses = steps.ok ? steps.value.map((step) => step.status).sort() : []
    expect(statuses).toEqual(['completed', 'pending', 'running'])
  })

  it('answers no claim when none was asked for', async () => {
    await runWith([{ id: 'solo' }])
    const [solo] = await store.claimReadySteps({ workerId: 'w', limit: 1 }, tick())
    const outcome = await store.recordExit({ lease: solo!.lease, exitCode: 0 }, tick())
    expect(outcome).toEqual({ accepted: true, leasesRevoked: false })
    expect('claimed' in outcome).toBe(false)
  })
})
