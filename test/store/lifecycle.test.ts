import { describe, expect, it } from 'vitest'
import type { Store } from '../../db/store.js'
import { testDatabases } from '../support/dialects.js'
import { storePerTest } from '../support/store-per-test.js'

describe.each(testDatabases)('store lifecycle on $name', (database) => {
  let store: Store
  storePerTest(database, (opened) => (store = opened))
  let now = 1_000_000
  const tick = () => ++now
  const worker = { workerId: 'test-worker', limit: 100 }

  async function startRun() {
    const run = await store.createRun({ flowName: 'demo' }, tick())
    const [call] = await store.claimFlowCalls(worker, tick())
    expect(call?.completedStage).toBeNull()
    return { run, call: call! }
  }

  it('starts only the runs whose first call it claimed, at the claim time', async () => {
    const first = await store.createRun({ flowName: 'demo' }, tick())
    const second = await store.createRun({ flowName: 'demo' }, tick())
    const claimedAt = tick()
    const calls = await store.claimFlowCalls({ ...worker, limit: 1 }, claimedAt)
    expect(calls.map((call) => call.runId)).toEqual([first.id])
    const started = await store.getRun(first.id)
    expect([started?.status, started?.startedAt]).toEqual(['running', claimedAt])
    const waiting = await store.getRun(second.id)
    expect([waiting?.status, waiting?.startedAt]).toEqual(['pending', null])
  })

  it('runs a two-stage flow to completion through callbacks', async () => {
    const { run, call } = await startRun()
    expect((await store.getRun(run.id))?.status).toBe('running')
    const scheduled = await store.scheduleStage(
      run.id,
      {
        stage: 'one',
        final: false,
        steps: [
          { id: 'a', name: 's' },
          { id: 'b', name: 's', dependsOn: ['a'] },
        ],
      },
      tick(),
    )
    expect(scheduled).toEqual({
      ok: true,
      value: {
        stage: 'one',
        scheduled: 2,
        steps: [
          { id: 'a', name: 's', status: 'pending' },
          { id: 'b', name: 's', status: 'pending' },
        ],
      },
    })
    expect(await store.recordExit({ lease: call.lease, exitCode: 0 }, tick())).toEqual({
      accepted: true,
      leasesRevoked: false,
    })
    const first = await store.claimReadySteps(worker, tick())
    expect(first.map((s) => s.stepId)).toEqual(['a'])
    expect(await store.recordExit({ lease: first[0]!.lease, exitCode: 0 }, tick())).toEqual({
      accepted: true,
      leasesRevoked: false,
    })
    // a duplicate report of the same attempt changes nothing
    expect(await store.recordExit({ lease: first[0]!.lease, exitCode: 1 }, tick())).toEqual({
      accepted: false,
      leasesRevoked: false,
    })
    const second = await store.claimReadySteps(worker, tick())
    expect(second.map((s) => s.stepId)).toEqual(['b'])
    await store.recordExit({ lease: second[0]!.lease, exitCode: 0 }, tick())
    const [callback] = await store.claimFlowCalls(worker, tick())
    expect(callback?.completedStage).toBe('one')
    await store.scheduleStage(run.id, { stage: 'two', final: true, steps: [{ id: 'c', name: 's' }] }, tick())
    await store.recordExit({ lease: callback!.lease, exitCode: 0 }, tick())
    const third = await store.claimReadySteps(worker, tick())
    await store.recordExit({ lease: third[0]!.lease, exitCode: 0 }, tick())
    const done = await store.getRun(run.id)
    expect(done?.status).toBe('completed')
    expect(done?.stages.map((s) => [s.name, s.status])).toEqual([
      ['one', 'completed'],
      ['two', 'completed'],
    ])
    expect(await store.findWork(tick())).toEqual({ claimable: false, running: false })
  })

  it('retries a failed attempt, then fails dependents and calls the flow with the failed stage', async () => {
    const { run, call } = await startRun()
    await store.scheduleStage(
      run.id,
      {
        stage: 'work',
        final: true,
        steps: [
          { id: 'x', name: 's', maxRetries: 1 },
          { id: 'y', name: 's', dependsOn: ['x'] },
          { id: 'z', name: 's', dependsOn: ['y'] },
        ],
      },
      tick(),
    )
    await store.recordExit({ lease: call.lease, exitCode: 0 }, tick())
    const [a1] = await store.claimReadySteps(worker, tick())
    await store.recordExit({ lease: a1!.lease, exitCode: 3 }, tick())
    const [a2] = await store.claimReadySteps(worker, tick())
    expect(a2?.attempt).toBe(2)
    await store.recordExit({ lease: a2!.lease, exitCode: 3 }, tick())
    const steps = await store.listSteps(run.id)
    expect(steps.ok && steps.value.map((s) => [s.id, s.status, s.error])).toEqual([
      ['x', 'failed', { reason: 'exit_code', exitCode: 3 }],
      ['y', 'failed', { reason: 'dependency_failed', failedStep: 'x' }],
      ['z', 'failed', { reason: 'dependency_failed', failedStep: 'x' }],
    ])
    const [callback] = await store.claimFlowCalls(worker, tick())
    expect(callback).toMatchObject({ failedStage: 'work', completedStage: null })
    await store.recordExit({ lease: callback!.lease, exitCode: 0 }, tick())
    expect((await store.getRun(run.id))?.status).toBe('failed')

    // retrying the run keeps nothing completed here, so all three run again
    const retried = await store.retryRun(run.id, tick())
    // Answered as reset; its stage restarted in the same commit, so the run is running again.
    expect(retried.ok && retried.value.status).toBe('pending')
    expect((await store.getRun(run.id))?.status).toBe('running')
    const again = await store.claimReadySteps(worker, tick())
    expect(again.map((s) => s.stepId)).toEqual(['x'])
  })

  it('releases a join once per dependency, however often a success is reported', async () => {
    const { run, call } = await startRun()
    await store.scheduleStage(
      run.id,
      {
        stage: 'join',
        final: true,
        steps: [
          { id: 'a', name: 's' },
          { id: 'b', name: 's' },
          { id: 'c', name: 's', dependsOn: ['a', 'b'] },
        ],
      },
      tick(),
    )
    await store.recordExit({ lease: call.lease, exitCode: 0 }, tick())
    const [a, b] = await store.claimReadySteps(worker, tick())
    expect([a?.stepId, b?.stepId]).toEqual(['a', 'b'])
    const reportedAt = tick()
    expect((await store.recordExit({ lease: a!.lease, exitCode: 0 }, reportedAt)).accepted).toBe(true)
    // The supervisor's retry of a delivered report, in the same millisecond and later: c still
    // waits for b (a timestamp could not tell the first report from the second).
    expect((await store.recordExit({ lease: a!.lease, exitCode: 0 }, reportedAt)).accepted).toBe(false)
    expect((await store.recordExit({ lease: a!.lease, exitCode: 0 }, tick())).accepted).toBe(false)
    expect(await store.claimReadySteps(worker, tick())).toEqual([])
    const waiting = await store.getStep(run.id, 'c')
    expect(waiting.ok && waiting.value.status).toBe('pending')

    expect((await store.recordExit({ lease: b!.lease, exitCode: 0 }, tick())).accepted).toBe(true)
    const [c] = await store.claimReadySteps(worker, tick())
    expect(c?.stepId).toBe('c')
    // A report from c's stage-mate that already ended settles nothing while c runs.
    await store.recordExit({ lease: b!.lease, exitCode: 0 }, tick())
    expect((await store.getRun(run.id))?.stages.map((s) => s.status)).toEqual(['running'])
    await store.recordExit({ lease: c!.lease, exitCode: 0 }, tick())
    expect((await store.getRun(run.id))?.status).toBe('completed')
  })
})
