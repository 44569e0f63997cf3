import { describe, expect, it } from 'vitest'
import type { Store } from '../../db/store.js'
import { testDatabases } from '../support/dialects.js'
import { storePerTest } from '../support/store-per-test.js'

describe.each(testDatabases)('retrying runs and steps on $name', (database) => {
  let store: Store
  storePerTest(database, (opened) => (store = opened))
  let now = 1_000_000
  const tick = () => ++now
  const worker = { workerId: 'test-worker', limit: 100 }

  /**
   * A failed run: stage `one` (final) where `ok` completed, `bad` failed for good, and `after`
   * (depends on `bad`) failed without running; the flow was called back and exited 0.
   */
  async function failedRun(): Promise<string> {
    const run = await store.createRun({ flowName: 'demo' }, tick())
    const [call] = await store.claimFlowCalls(worker, tick())
    await store.scheduleStage(
      run.id,
      {
        stage: 'one',
        final: true,
        steps: [
          { id: 'ok', name: 's' },
          { id: 'bad', name: 's' },
          { id: 'after', name: 's', dependsOn: ['bad'] },
        ],
      },
      tick(),
    )
    await store.recordExit({ lease: call!.lease, exitCode: 0 }, tick())
    const claimed = await store.claimReadySteps(worker, tick())
    const byId = new Map(claimed.map((s) => [s.stepId, s]))
    await store.recordExit({ lease: byId.get('ok')!.lease, exitCode: 0 }, tick())
    await store.recordExit({ lease: byId.get('bad')!.lease, exitCode: 1 }, tick())
    const [callback] = await store.claimFlowCalls(worker, tick())
    expect(callback).toMatchObject({ failedStage: 'one' })
    await store.recordExit({ lease: callback!.lease, exitCode: 0 }, tick())
    expect((await store.getRun(run.id))?.status).toBe('failed')
    return run.id
  }

  async function finishAll(): Promise<void> {
    for (;;) {
      const claimed = await store.claimReadySteps(worker, tick())
      if (claimed.length === 0) return
      for (const step of claimed) await store.recordExit({ lease: step.lease, exitCode: 0 }, tick())
    }
  }

  it('retries a failed run and keeps its completed steps', async () => {
    const runId = await failedRun()
    const retried = await store.retryRun(runId, tick())
    // The run as the reset left it; the stages as the retry commits them (the failed one restarted).
    expect(retried.ok && retried.value).toMatchObject({
      status: 'pending',
      error: null,
      terminationReason: null,
      completedAt: null,
    })
    expect(retried.ok && retried.value.stages.map((s) => s.status)).toEqual(['running'])
    expect((await store.getRun(runId))?.status).toBe('running')

    const claimed = await store.claimReadySteps(worker, tick())
    expect(claimed.map((s) => [s.stepId, s.attempt])).toEqual([['bad', 2]])
    await store.recordExit({ lease: claimed[0]!.lease, exitCode: 0 }, tick())
    await finishAll()

    const steps = await store.listSteps(runId)
    expect(steps.ok && steps.value.map((s) => [s.id, s.status, s.attempt])).toEqual([
      ['ok', 'completed', 1],
      ['bad', 'completed', 2],
      ['after', 'completed', 1],
    ])
    expect((await store.getRun(runId))?.status).toBe('completed')
  })

  it('refuses to retry a run that completed or is still running', async () => {
    const run = await store.createRun({ flowName: 'demo' }, tick())
    expect(await store.retryRun(run.id, tick())).toMatchObject({ ok: false, code: 'RUN_STILL_RUNNING' })
    const [call] = await store.claimFlowCalls(worker, tick())
    await store.recordExit({ lease: call!.lease, exitCode: 0 }, tick())
    expect((await store.getRun(run.id))?.status).toBe('completed')
    expect(await store.retryRun(run.id, tick())).toMatchObject({ ok: false, code: 'RUN_COMPLETED' })
    expect(await store.retryRun('no-such-run', tick())).toMatchObject({ ok: false, code: 'RUN_NOT_FOUND' })
  })

  it('retries one failed step, reopening what its failure closed', async () => {
    const runId = await failedRun()
    const retried = await store.retryStep(runId, 'bad', tick())
    expect(retried.ok && retried.value).toMatchObject({ id: 'bad', status: 'pending', retryCount: 0 })
    expect((await store.getRun(runId))?.status).toBe('running')
    const after = await store.getStep(runId, 'after')
    expect(after.ok && after.value.status).toBe('pending')

    await finishAll()
    expect((await store.getRun(runId))?.status).toBe('completed')
    const ok = await store.getStep(runId, 'ok')
    expect(ok.ok && ok.value.attempt).toBe(1)
  })

  it('refuses to retry a step that has not failed, or does not exist', async () => {
    const runId = await failedRun()
    expect(await store.retryStep(runId, 'ok', tick())).toMatchObject({ ok: false, code: 'STEP_NOT_FAILED' })
    expect(await store.retryStep(runId, 'ghost', tick())).toMatchObject({ ok: false, code: 'STEP_NOT_FOUND' })
  })

  it('retries a failed attempt while retries remain', async () => {
    const run = await store.createRun({ flowName: 'demo' }, tick())
    const [call] = await store.claimFlowCalls(worker, tick())
    await store.scheduleStage(
      run.id,
      { stage: 'one', final: true, steps: [{ id: 'flaky', name: 's', maxRetries: 2 }] },
      tick(),
    )
    await store.recordExit({ lease: call!.lease, exitCode: 0 }, tick())
    for (const expectedAttempt of [1, 2]) {
      const [step] = await store.claimReadySteps(worker, tick())
      expect(step?.attempt).toBe(expectedAttempt)
      await store.recordExit({ lease: step!.lease, exitCode: 1 }, tick())
    }
    const [last] = await store.claimReadySteps(worker, tick())
    await store.recordExit({ lease: last!.lease, exitCode: 0 }, tick())
    const step = await store.getStep(run.id, 'flaky')
    expect(step.ok && step.value).toMatchObject({ status: 'completed', attempt: 3, retryCount: 2 })
    expect((await store.getRun(run.id))?.status).toBe('completed')
  })
})
