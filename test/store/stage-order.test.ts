import { describe, expect, it } from 'vitest'
import type { Store } from '../../db/store.js'
import { testDatabases } from '../support/dialects.js'
import { storePerTest } from '../support/store-per-test.js'

describe.each(testDatabases)('stage order on $name', (database) => {
  let store: Store
  storePerTest(database, (opened) => (store = opened))
  let now = 1_000_000
  const tick = () => ++now
  const worker = { workerId: 'test-worker', limit: 100 }

  it("does not make a later stage's steps claimable until the earlier stage completes", async () => {
    const run = await store.createRun({ flowName: 'demo' }, tick())
    const [call] = await store.claimFlowCalls(worker, tick())
    // The flow plans two stages in one call; the second has no dependencies of its own.
    await store.scheduleStage(
      run.id,
      {
        stage: 'one',
        final: false,
        steps: [
          { id: 'a1', name: 's' },
          { id: 'a2', name: 's' },
        ],
      },
      tick(),
    )
    await store.scheduleStage(run.id, { stage: 'two', final: true, steps: [{ id: 'b', name: 's' }] }, tick())
    await store.recordExit({ lease: call!.lease, exitCode: 0 }, tick())

    const first = await store.claimReadySteps(worker, tick())
    expect(first.map((s) => s.stepId).sort()).toEqual(['a1', 'a2'])
    expect((await store.getRun(run.id))?.stages.map((s) => s.status)).toEqual(['running', 'pending'])

    await store.recordExit({ lease: first[0]!.lease, exitCode: 0 }, tick())
    expect(await store.claimReadySteps(worker, tick())).toEqual([])

    await store.recordExit({ lease: first[1]!.lease, exitCode: 0 }, tick())
    const second = await store.claimReadySteps(worker, tick())
    expect(second.map((s) => [s.stepId, s.stage])).toEqual([['b', 'two']])
    expect((await store.getRun(run.id))?.stages.map((s) => s.status)).toEqual(['completed', 'running'])

    // The completed non-final stage queued a callback naming it.
    const [callback] = await store.claimFlowCalls(worker, tick())
    expect(callback).toMatchObject({ completedStage: 'one', failedStage: null })
  })

  it('runs steps of one stage in dependency order', async () => {
    const run = await store.createRun({ flowName: 'demo' }, tick())
    const [call] = await store.claimFlowCalls(worker, tick())
    await store.scheduleStage(
      run.id,
      {
        stage: 'one',
        final: true,
        steps: [
          { id: 'root', name: 's' },
          { id: 'left', name: 's', dependsOn: ['root'] },
          { id: 'right', name: 's', dependsOn: ['root'] },
          { id: 'join', name: 's', dependsOn: ['left', 'right'] },
        ],
      },
      tick(),
    )
    await store.recordExit({ lease: call!.lease, exitCode: 0 }, tick())
    const order: string[][] = []
    for (;;) {
      const claimed = await store.claimReadySteps(worker, tick())
      if (claimed.length === 0) break
      order.push(claimed.map((s) => s.stepId).sort())
      for (const step of claimed) await store.recordExit({ lease: step.lease, exitCode: 0 }, tick())
    }
    expect(order).toEqual([['root'], ['left', 'right'], ['join']])
    expect((await store.getRun(run.id))?.status).toBe('completed')
  })
})
