// Fault suite (issue 17): the local runner (`npm start`: the API and the tick loop in one process,
// embedded SQLite) is SIGKILLed mid-run and started again, as a laptop user would after a crash.
// The scripts it was supervising, and the child one of them left, must be gone before their steps
// run again; their lost attempts do not spend `maxRetries: 0`; the steps that had completed are
// not run again; every field posted before the kill is kept; and the re-run starts soon after the
// restart: the lease is 120 s, longer than any wait here, so only the restarted runner recognising
// its dead predecessor (not the lease) gets the run done in time.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sqliteDatabase } from '../support/dialects.js'
import type { RunningServer } from '../support/start-server.js'
import { waitFor } from '../support/wait-for.js'
import { readMarkers, stage, work } from './fault-flow.js'
import { LOCAL_RUNNER, startFaultWorld, type FaultWorld } from './fault-world.js'

describe('fault: the local runner is killed mid-run (sqlite)', () => {
  let world: FaultWorld
  let runner: RunningServer

  beforeAll(async () => {
    world = await startFaultWorld(sqliteDatabase, { env: { MAXQ_LEASE_MS: '120000' } })
    runner = await world.startApi(LOCAL_RUNNER)
  })

  afterAll(async () => {
    await world?.close()
  })

  it('re-runs the killed steps after the restart, once their processes are gone, and completes the run', async () => {
    const runId = await world.trigger({
      start: {
        post: [
          stage('first', false, [
            work('a', { env: { HOLD: '1', BG_CHILD: '1', POST_AFTER: '1' } }),
            work('b', { env: { POST_AFTER: '1' } }),
            work('c', { dependsOn: ['b'], env: { HOLD: '1' } }),
          ]),
        ],
      },
      'completed:first': { post: [stage('second', true, [work('d')])] },
    })
    await world.waitForMarker(runId, 'holding-a')
    await world.waitForMarker(runId, 'holding-c')
    expect((await world.client.getStep(runId, 'b')).status).toBe('completed')

    await world.kill(runner.pid)
    runner = await world.startApi(LOCAL_RUNNER)
    // Each held step starts a second time; that attempt holds too until the test has seen it.
    await waitFor(
      () => {
        const starts = readMarkers(world.outDir, runId).attempts.map((attempt) => attempt.stepId)
        return starts.filter((id) => id === 'a').length >= 2 && starts.filter((id) => id === 'c').length >= 2
      },
      { timeoutMs: 45_000, intervalMs: 100, message: 'a and c were not re-run after the restart' },
    ).catch(async (error: unknown) => {
      throw new Error(`${String(error)}\n${await world.describe(runId)}`)
    })
    world.touch(runId, 'release')

    await world.expectCompleted(runId)
    await world.expectConsistent(runId)
    const starts = readMarkers(world.outDir, runId).attempts.map((attempt) => attempt.stepId)
    expect(starts.sort()).toEqual(['a', 'a', 'b', 'c', 'c', 'd'])
    for (const id of ['a', 'c']) {
      const step = await world.client.getStep(runId, id)
      expect(step.attempts?.map((attempt) => attempt.terminationReason)[0]).toBe('lease_expired')
      expect(step.attempts).toHaveLength(2)
    }
    // a's first attempt posted p<pid> before the kill; it is still there beside the re-run's.
    expect(Object.keys((await world.client.fields(runId)).get('a') ?? {})).toHaveLength(3)
  })
})
