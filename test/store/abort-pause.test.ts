import { beforeEach, describe, expect, it } from 'vitest'
import type { Store } from '../../db/store.js'
import { testDatabases } from '../support/dialects.js'
import { storePerTest } from '../support/store-per-test.js'

describe.each(testDatabases)('abort, pause and resume on $name', (database) => {
  let store: Store
  storePerTest(database, (opened) => (store = opened))
  let runId: string
  let now = 1_000_000
  const tick = () => ++now
  const worker = { workerId: 'test-worker', limit: 100 }

  /** A running run: stage `one` with `a` and `b` claimable and `c` waiting for `a`. */
  beforeEach(async () => {
    const run = await store.createRun({ flowName: 'demo' }, tick())
    runId = run.id
    const [call] = await store.claimFlowCalls(worker, tick())
    await store.scheduleStage(
      runId,
      {
        stage: 'one',
        final: true,
        steps: [
          { id: 'a', name: 's' },
          { id: 'b', name: 's' },
          { id: 'c', name: 's', dependsOn: ['a'] },
        ],
      },
      tick(),
    )
    await store.recordExit({ lease: call!.lease, exitCode: 0 }, tick())
  })

  it('fails open work as aborted, loses the running leases, and is idempotent', async () => {
    const [a] = await store.claimReadySteps({ ...worker, limit: 1 }, tick())
    expect(a?.stepId).toBe('a')

    const aborted = await store.abortRun(runId, tick())
    expect(aborted).toEqual({
      ok: true,
      value: { message: 'Run aborted', processesKilled: 1, alreadyCompleted: false },
    })
    const run = await store.getRun(runId)
    expect(run).toMatchObject({
      status: 'failed',
      terminationReason: 'aborted',
      error: { reason: 'aborted' },
    })
    const steps = await store.listSteps(runId)
    expect(steps.ok && steps.value.map((s) => [s.id, s.status, s.terminationReason])).toEqual([
      ['a', 'failed', 'aborted'],
      ['b', 'failed', 'aborted'],
      ['c', 'failed', 'aborted'],
    ])

    // The supervisor of `a` learns from its heartbeat that the lease is gone, and kills the process.
    expect(await store.heartbeat('test-worker', [a!.lease], tick())).toEqual({ lost: [a!.lease] })
    // Its late exit report changes nothing.
    expect(await store.recordExit({ lease: a!.lease, exitCode: 0 }, tick())).toEqual({
      accepted: false,
      leasesRevoked: false,
    })
    expect(await store.claimReadySteps(worker, tick())).toEqual([])

    const again = await store.abortRun(runId, tick())
    expect(again.ok && again.value).toMatchObject({ processesKilled: 0, alreadyCompleted: true })
    expect(await store.findWork(tick())).toEqual({ claimable: false, running: false })
  })

  it('renews live leases in a heartbeat', async () => {
    const [a] = await store.claimReadySteps({ ...worker, limit: 1 }, tick())
    const beat = tick()
    expect(await store.heartbeat('test-worker', [a!.lease, 'not-a-lease'], beat)).toEqual({
      lost: ['not-a-lease'],
    })
    const step = await store.getStep(runId, 'a')
    expect(step.ok && step.value.heartbeatAt).toBe(beat)
  })

  it('stops claiming while paused and starts again on resume', async () => {
    const paused = await store.pauseRun(runId, tick())
    expect(paused.ok && paused.value.status).toBe('paused')
    expect(await store.claimReadySteps(worker, tick())).toEqual([])
    // pausing twice is fine
    expect((await store.pauseRun(runId, tick())).ok).toBe(true)

    const resumed = await store.resumeRun(runId, tick())
    expect(resumed.ok && resumed.value.status).toBe('running')
    const claimed = await store.claimReadySteps(worker, tick())
    expect(claimed.map((s) => s.stepId)).toEqual(['a', 'b'])
  })

  it('lets a running step finish while paused and releases its dependents on resume', async () => {
    const [a] = await store.claimReadySteps({ ...worker, limit: 1 }, tick())
    await store.pauseRun(runId, tick())
    expect(await store.recordExit({ lease: a!.lease, exitCode: 0 }, tick())).toEqual({
      accepted: true,
      leasesRevoked: false,
    })
    expect(await store.claimReadySteps(worker, tick())).toEqual([])
    await store.resumeRun(runId, tick())
    const claimed = await store.claimReadySteps(worker, tick())
    expect(claimed.map((s) => s.stepId)).toEqual(['b', 'c'])
  })

  it('refuses to pause a run that has ended', async () => {
    await store.abortRun(runId, tick())
    expect(await store.pauseRun(runId, tick())).toMatchObject({ ok: false, code: 'INVALID_STATE' })
    expect(await store.resumeRun(runId, tick())).toMatchObject({ ok: false, code: 'INVALID_STATE' })
    expect(await store.pauseRun('no-such-run', tick())).toMatchObject({ ok: false, code: 'RUN_NOT_FOUND' })
  })
})
