// What GET /metrics reads from the database (db/queries/read-metrics.ts), on both dialects: runs
// by status, the steps of open runs by status, ready and waiting work, and the durations of the
// runs that finished since a point in time.

import { describe, expect, it } from 'vitest'
import type { Store } from '../../db/store.js'
import { RUN_DURATION_BUCKETS } from '../../db/queries/read-metrics.js'
import { testDatabases } from '../support/dialects.js'
import { claimFlowCall, completeRun, failRunByFlowExit, reportExit } from '../support/drive-run.js'
import { storePerTest } from '../support/store-per-test.js'

describe.each(testDatabases)('readMetrics on $name', (database) => {
  let store: Store
  storePerTest(database, (opened) => (store = opened))
  const worker = { workerId: 'test-worker', limit: 100 }

  async function schedule(runId: string, steps: Array<{ id: string; dependsOn?: string[] }>): Promise<void> {
    const outcome = await store.scheduleStage(
      runId,
      { stage: 'work', final: true, steps: steps.map((step) => ({ name: 'work', ...step })) },
      Date.now(),
    )
    expect(outcome.ok).toBe(true)
  }

  it('counts runs, open runs’ steps, ready and waiting work, and recent run durations', async () => {
    const started = Date.now()
    const completed = await store.createRun({ flowName: 'f' }, Date.now())
    await completeRun(store, completed.id, 'work')
    const failed = await store.createRun({ flowName: 'f' }, Date.now())
    await failRunByFlowExit(store, failed.id)
    // Running, its flow call ended: s1 claimed and running, s2 waiting for it.
    const claimed = await store.createRun({ flowName: 'f' }, Date.now())
    const claimedCall = await claimFlowCall(store, claimed.id)
    await schedule(claimed.id, [{ id: 's1' }, { id: 's2', dependsOn: ['s1'] }])
    await reportExit(store, claimedCall.lease, 0)
    expect((await store.claimReadySteps(worker, Date.now())).map((step) => step.stepId)).toEqual(['s1'])
    // Running, its flow call still running: e1 ready to claim.
    const ready = await store.createRun({ flowName: 'f' }, Date.now())
    await claimFlowCall(store, ready.id)
    await schedule(ready.id, [{ id: 'e1' }])
    // Pending (made last: a claim above would have taken its flow call), that flow call ready.
    await store.createRun({ flowName: 'f' }, Date.now())

    const counts = await store.readMetrics(Date.now(), started)
    expect(counts.runs).toEqual({ completed: 1, failed: 1, pending: 1, running: 2 })
    expect(counts.openRunSteps).toEqual({ running: 1, pending: 2 })
    expect(counts.readySteps).toBe(1)
    expect(counts.queuedFlowCalls).toEqual({ ready: 1, waiting: 0 })
    expect(counts.runningFlowCalls).toBe(1)
    for (const status of ['completed', 'failed'] as const) {
      const durations = counts.recentRunDurations[status]
      expect(durations?.count).toBe(1)
      expect(durations?.buckets).toHaveLength(RUN_DURATION_BUCKETS.length)
      // Cumulative: each bucket holds the ones below it; the last holds the run.
      expect(durations?.buckets.at(-1)).toBe(1)
      expect([...(durations?.buckets ?? [])].sort((a, b) => a - b)).toEqual(durations?.buckets)
      expect(durations?.sumSeconds).toBeGreaterThanOrEqual(0)
    }
    // Runs that finished before the window are not in it.
    expect((await store.readMetrics(Date.now(), Date.now() + 1)).recentRunDurations).toEqual({})
  })

  it('answers zeros, not nothing, for an empty database', async () => {
    expect(await store.readMetrics(Date.now(), 0)).toEqual({
      runs: {},
      openRunSteps: {},
      readySteps: 0,
      queuedFlowCalls: { ready: 0, waiting: 0 },
      runningFlowCalls: 0,
      recentRunDurations: {},
    })
  })
})
