import { describe, expect, it } from 'vitest'
import type { ClaimedFlowCall, Store } from '../../db/store.js'
import { testDatabases } from '../support/dialects.js'
import { storePerTest } from '../support/store-per-test.js'

describe.each(testDatabases)('scheduling a stage on $name', (database) => {
  let store: Store
  storePerTest(database, (opened) => (store = opened))
  let now = 1_000_000
  const tick = () => ++now
  const worker = { workerId: 'test-worker', limit: 100 }

  async function startRun(): Promise<{ runId: string; call: ClaimedFlowCall }> {
    const run = await store.createRun({ flowName: 'demo' }, tick())
    const [call] = await store.claimFlowCalls(worker, tick())
    return { runId: run.id, call: call! }
  }

  it('rejects a step id used twice in one stage', async () => {
    const { runId } = await startRun()
    const outcome = await store.scheduleStage(
      runId,
      {
        stage: 'one',
        final: false,
        steps: [
          { id: 'a', name: 's' },
          { id: 'a', name: 's' },
        ],
      },
      tick(),
    )
    expect(outcome).toEqual({
      ok: false,
      code: 'DUPLICATE_STEP_ID',
      details: { stepId: 'a', reason: 'Step ID appears more than once in this stage' },
    })
    const steps = await store.listSteps(runId)
    expect(steps.ok && steps.value).toEqual([])
  })

  it('rejects a step id already used by another stage of the run', async () => {
    const { runId } = await startRun()
    await store.scheduleStage(runId, { stage: 'one', final: false, steps: [{ id: 'a', name: 's' }] }, tick())
    const outcome = await store.scheduleStage(
      runId,
      { stage: 'two', final: true, steps: [{ id: 'a', name: 's' }] },
      tick(),
    )
    expect(outcome).toMatchObject({
      ok: false,
      code: 'DUPLICATE_STEP_ID',
      details: { stepId: 'a', reason: 'Step ID already exists in this run' },
    })
    expect((await store.getRun(runId))?.stages.map((s) => s.name)).toEqual(['one'])
  })

  it('rejects an unknown dependency', async () => {
    const { runId } = await startRun()
    const outcome = await store.scheduleStage(
      runId,
      { stage: 'one', final: false, steps: [{ id: 'a', name: 's', dependsOn: ['ghost'] }] },
      tick(),
    )
    expect(outcome).toEqual({
      ok: false,
      code: 'UNKNOWN_DEPENDENCY',
      details: { stepId: 'a', dependsOn: 'ghost' },
    })
  })

  it('accepts a dependency on a step of an earlier stage', async () => {
    const { runId } = await startRun()
    await store.scheduleStage(runId, { stage: 'one', final: false, steps: [{ id: 'a', name: 's' }] }, tick())
    const outcome = await store.scheduleStage(
      runId,
      { stage: 'two', final: true, steps: [{ id: 'b', name: 's', dependsOn: ['a'] }] },
      tick(),
    )
    expect(outcome).toEqual({
      ok: true,
      value: { stage: 'two', scheduled: 1, steps: [{ id: 'b', name: 's', status: 'pending' }] },
    })
  })

  it('rejects a dependency cycle', async () => {
    const { runId } = await startRun()
    const outcome = await store.scheduleStage(
      runId,
      {
        stage: 'one',
        final: false,
        steps: [
          { id: 'a', name: 's', dependsOn: ['c'] },
          { id: 'b', name: 's', dependsOn: ['a'] },
          { id: 'c', name: 's', dependsOn: ['b'] },
        ],
      },
      tick(),
    )
    expect(outcome).toMatchObject({ ok: false, code: 'DEPENDENCY_CYCLE' })
    expect(!outcome.ok && outcome.details).toEqual({ cycle: ['a', 'c', 'b', 'a'] })
    expect((await store.getRun(runId))?.stages).toEqual([])
  })

  it('answers a re-posted stage with the first result and changes nothing', async () => {
    const { runId } = await startRun()
    const stage = {
      stage: 'one',
      final: false,
      steps: [
        { id: 'a', name: 's' },
        { id: 'b', name: 's', dependsOn: ['a'] },
      ],
    }
    const first = await store.scheduleStage(runId, stage, tick())
    const again = await store.scheduleStage(runId, { ...stage, steps: [...stage.steps].reverse() }, tick())
    expect(again).toEqual(first)
    const steps = await store.listSteps(runId)
    expect(steps.ok && steps.value.map((s) => s.id)).toEqual(['a', 'b'])
    expect((await store.getRun(runId))?.stages).toHaveLength(1)
  })

  it('answers a re-posted stage with its steps as they are now', async () => {
    const { runId } = await startRun()
    const stage = {
      stage: 'one',
      final: false,
      steps: [
        { id: 'a', name: 's' },
        { id: 'b', name: 't', dependsOn: ['a'] },
      ],
    }
    await store.scheduleStage(runId, stage, tick())
    const [claimed] = await store.claimReadySteps(worker, tick())
    expect(claimed?.stepId).toBe('a')
    expect(await store.scheduleStage(runId, stage, tick())).toEqual({
      ok: true,
      value: {
        stage: 'one',
        scheduled: 2,
        steps: [
          { id: 'a', name: 's', status: 'running' },
          { id: 'b', name: 't', status: 'pending' },
        ],
      },
    })
  })

  it('lists a page of steps, filtered and sorted, with the total', async () => {
    const { runId } = await startRun()
    await store.scheduleStage(
      runId,
      {
        stage: 'one',
        final: false,
        steps: [
          { id: 'c', name: 'x' },
          { id: 'a', name: 'y' },
          { id: 'b', name: 'x' },
        ],
      },
      tick(),
    )
    await store.scheduleStage(runId, { stage: 'two', final: true, steps: [{ id: 'd', name: 'x' }] }, tick())
    await store.claimReadySteps(worker, tick())
    const page = async (query: Partial<Parameters<Store['listStepsPage']>[1]>) => {
      const outcome = await store.listStepsPage(runId, {
        limit: 100,
        offset: 0,
        sortBy: 'createdAt',
        sortOrder: 'asc',
        ...query,
      })
      if (!outcome.ok) throw new Error(outcome.code)
      return [outcome.value.steps.map((s) => s.id), outcome.value.total]
    }
    expect(await page({})).toEqual([['c', 'a', 'b', 'd'], 4])
    expect(await page({ sortOrder: 'desc' })).toEqual([['d', 'b', 'a', 'c'], 4])
    expect(await page({ stage: 'one', name: 'x' })).toEqual([['c', 'b'], 2])
    expect(await page({ status: 'running' })).toEqual([['c', 'a', 'b'], 3])
    expect(await page({ limit: 2, offset: 1 })).toEqual([['a', 'b'], 4])
    expect(await page({ sortBy: 'name' })).toEqual([['c', 'b', 'd', 'a'], 4])
    expect(
      await store.listStepsPage('no-such-run', {
        limit: 1,
        offset: 0,
        sortBy: 'createdAt',
        sortOrder: 'asc',
      }),
    ).toMatchObject({ ok: false, code: 'RUN_NOT_FOUND' })
  })

  it('answers STAGE_CONFLICT when a stage name is re-posted with other step ids', async () => {
    const { runId } = await startRun()
    await store.scheduleStage(runId, { stage: 'one', final: false, steps: [{ id: 'a', name: 's' }] }, tick())
    const outcome = await store.scheduleStage(
      runId,
      {
        stage: 'one',
        final: false,
        steps: [
          { id: 'a', name: 's' },
          { id: 'b', name: 's' },
        ],
      },
      tick(),
    )
    expect(outcome).toEqual({
      ok: false,
      code: 'STAGE_CONFLICT',
      details: { stage: 'one', existingSteps: ['a'] },
    })
  })

  it('answers RUN_NOT_ACTIVE on a run that has ended, RUN_NOT_FOUND on no run', async () => {
    const { runId, call } = await startRun()
    await store.recordExit({ lease: call.lease, exitCode: 2 }, tick())
    expect((await store.getRun(runId))?.status).toBe('failed')
    const outcome = await store.scheduleStage(
      runId,
      { stage: 'late', final: true, steps: [{ id: 'a', name: 's' }] },
      tick(),
    )
    expect(outcome).toMatchObject({ ok: false, code: 'RUN_NOT_ACTIVE' })
    const missing = await store.scheduleStage(
      'no-such-run',
      { stage: 'one', final: true, steps: [{ id: 'a', name: 's' }] },
      tick(),
    )
    expect(missing).toMatchObject({ ok: false, code: 'RUN_NOT_FOUND' })
  })

  it('stores a step definition as given', async () => {
    const { runId } = await startRun()
    await store.scheduleStage(
      runId,
      {
        stage: 'one',
        final: true,
        steps: [
          { id: 'a', name: 'fetch', maxRetries: 2, env: { REGION: 'eu', EMPTY: '' }, timeoutSeconds: 30 },
          { id: 'b', name: 'store', dependsOn: ['a'] },
        ],
      },
      tick(),
    )
    const steps = await store.listSteps(runId)
    expect(steps.ok && steps.value).toMatchObject([
      {
        id: 'a',
        name: 'fetch',
        stage: 'one',
        status: 'pending',
        dependsOn: [],
        maxRetries: 2,
        retryCount: 0,
        attempt: 0,
        env: { REGION: 'eu', EMPTY: '' },
        timeoutSeconds: 30,
        fields: {},
        error: null,
      },
      { id: 'b', name: 'store', dependsOn: ['a'], maxRetries: 0, env: {}, timeoutSeconds: null },
    ])
    expect((await store.getRun(runId))?.stages).toMatchObject([{ name: 'one', seq: 1, final: true }])
  })
})
