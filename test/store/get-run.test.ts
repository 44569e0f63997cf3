import { describe, expect, it } from 'vitest'
import type { Store } from '../../db/store.js'
import { testDatabases } from '../support/dialects.js'
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
