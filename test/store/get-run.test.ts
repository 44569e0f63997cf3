import { describe, expect, it } from 'vitest'
import type { Store } from '../../db/store.js'
import { testDatabases } from '../support/dialects.js'
import { completeRun, failRunByFlowExit } from '../support/drive-run.js'
import { storePerTest } from '../support/store-per-test.js'

// getRun reads the run and its stages in one statement (stages aggregated as JSON in the
// database); the answer must be what GET /runs/{run} always sent, key order included.
describe.each(testDatabases)('reading a run on $name', (database) => {
  let store: Store
  storePerTest(database, (opened) => (store = opened))
  let now = 1_000_000
  const tick = () => ++now
  const worker = { workerId: 'test-worker', limit: 100 }

  it('answers the run with its stages in scheduling order, every field as before', async () => {
    const run = await store.createRun(
      { flowName: 'demo', input: { city: 'Oslo' }, metadata: [1, 'two'] },
      100,
    )
    const [call] = await store.claimFlowCalls(worker, 101)
    // Names sort in another order than the stages were scheduled in; one has quotes and non-ASCII.
    await store.scheduleStage(run.id, { stage: 'zeta', final: false, steps: [{ id: 'a', name: 's' }] }, 102)
    await store.scheduleStage(run.id, { stage: 'alpha', final: false, steps: [{ id: 'b', name: 's' }] }, 103)
    await store.scheduleStage(
      run.id,
      { stage: 'mid "q" ü', final: true, steps: [{ id: 'c', name: 's' }] },
      104,
    )
    await store.recordExit({ lease: call!.lease, exitCode: 0 }, 105)
    const [first] = await store.claimReadySteps(worker, 106)
    await store.recordExit({ lease: first!.lease, exitCode: 0 }, 107)

    const read = await store.getRun(run.id)
    const stage = (name: string, seq: number, final: boolean, rest: object) => ({
      runId: run.id,
      name,
      seq,
      final,
      ...rest,
    })
    const expected = {
      id: run.id,
      flowName: 'demo',
      status: 'running',
      input: { city: 'Oslo' },
      metadata: [1, 'two'],
      name: null,
      description: null,
      output: null,
      error: null,
      terminationReason: null,
      createdAt: 100,
      startedAt: 101,
      completedAt: null,
      updatedAt: 101,
      stages: [
        stage('zeta', 1, false, { status: 'completed', createdAt: 102, startedAt: 102, completedAt: 107 }),
        stage('alpha', 2, false, { status: 'running', createdAt: 103, startedAt: 107, completedAt: null }),
        stage('mid "q" ü', 3, true, {
          status: 'pending',
          createdAt: 104,
          startedAt: null,
          completedAt: null,
        }),
      ],
      // A running run waits on nothing of its own (issue 18: its pending steps say why they wait).
      waitingFor: null,
    }
    // The same text, not only equal values: the response body is this object through JSON.stringify.
    expect(JSON.stringify(read)).toBe(JSON.stringify(expected))
  })

  it('answers an empty stage list for a run with no stages yet', async () => {
    const run = await store.createRun({ flowName: 'demo' }, tick())
    // With no worker alive, a pending run says so (issue 18).
    expect(await store.getRun(run.id)).toEqual({ ...run, stages: [], waitingFor: { reason: 'no_worker' } })
  })

  it('answers GET /runs/{run}’s text (getRunJson) exactly as getRun’s through JSON.stringify, in every state', async () => {
    // Strings JSON must escape, numbers JavaScript writes its own way, nested values, non-ASCII.
    const tricky = {
      text: 'quote " backslash \\ newline \n tab \t bell \u0007 del \u007f ü 😀 \u2028 </script>',
      numbers: [0, -2.5, 1e21, 0.1, 12345678901234],
      nested: { empty: {}, list: [], no: false, yes: true, nothing: null },
    }
    const running = await store.createRun({ flowName: 'demo', input: tricky, metadata: 'plain' }, 100)
    const [call] = await store.claimFlowCalls(worker, 101)
    await store.scheduleStage(
      running.id,
      { stage: 'one', final: false, steps: [{ id: 'a', name: 's' }] },
      102,
    )
    await store.recordExit({ lease: call!.lease, exitCode: 0 }, 103)
    const done = await store.createRun({ flowName: 'demo', input: [tricky] }, tick())
    await store.updateRun(
      done.id,
      { name: 'ünïcode "name"', description: 'two\nlines', output: tricky },
      tick(),
    )
    await completeRun(store, done.id, 's')
    const failed = await store.createRun({ flowName: 'demo' }, tick())
    await failRunByFlowExit(store, failed.id)
    const paused = await store.createRun({ flowName: 'demo' }, tick())
    await store.pauseRun(paused.id, tick())
    const pending = await store.createRun({ flowName: 'demo', input: 7 }, tick())

    for (const run of [running, done, failed, paused, pending]) {
      const text = await store.getRunJson(run.id, now)
      expect(text).toBe(JSON.stringify(await store.getRun(run.id, now)))
    }
    const statuses = await Promise.all(
      [done, failed, paused].map(async (run) => (await store.getRun(run.id))?.status),
    )
    expect(statuses).toEqual(['completed', 'failed', 'paused'])
    expect(JSON.parse((await store.getRunJson(failed.id))!)).toMatchObject({
      status: 'failed',
      error: expect.anything(),
    })
    expect(await store.getRunJson('no-such-run')).toBeNull()
  })

  it('answers null for an unknown run', async () => {
    expect(await store.getRun('no-such-run')).toBeNull()
    expect(await store.getRunFlowName('no-such-run')).toBeNull()
  })

  it('answers a run’s flow name alone', async () => {
    const run = await store.createRun({ flowName: 'flow_with-name' }, tick())
    await store.createRun({ flowName: 'other' }, tick())
    expect(await store.getRunFlowName(run.id)).toBe('flow_with-name')
  })
})
