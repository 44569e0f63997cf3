// Fault suite (issue 17): the API process is SIGKILLed mid-run and started again on the same port.
// `maxq serve` and `maxq tick --watch` are separate processes: the tick loop records its scripts'
// exits and heartbeats in the database and keeps going; the scripts reach the API through the
// helper library, which retries a refused connection, so their posts land once the API is back.
// The run completes, no step runs twice, and every field posted before the kill is still there;
// also when the kill drops a request a script had sent (its answer never comes).

import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { postgresDatabase } from '../support/dialects.js'
import type { RunningServer } from '../support/start-server.js'
import { waitFor } from '../support/wait-for.js'
import { readMarkers, stage, work } from './fault-flow.js'
import { API_ONLY, startFaultWorld, type FaultWorld } from './fault-world.js'

// PostgreSQL: the deployment with an API process apart from its tick processes.
describe('fault: the API is killed mid-run (postgres)', () => {
  let world: FaultWorld
  let api: RunningServer

  beforeAll(async () => {
    // A lease far longer than the test: nothing here may depend on a lease expiring.
    world = await startFaultWorld(postgresDatabase, { env: { MAXQ_LEASE_MS: '120000' } })
    api = await world.startApi(API_ONLY)
    world.startTick()
  })

  afterAll(async () => {
    await world?.close()
  })

  it('completes the run after a SIGKILL of the API and a restart', async () => {
    const held = { HOLD: '1', POST_AFTER: '1' }
    const runId = await world.trigger({
      start: {
        post: [
          stage('first', false, [
            work('a', { env: held }),
            work('b', { env: held }),
            work('c', { dependsOn: ['a'], env: { POST_AFTER: '1' } }),
          ]),
        ],
      },
      'completed:first': { post: [stage('second', true, [work('d', { env: { POST_AFTER: '1' } })])] },
    })
    await world.waitForMarker(runId, 'holding-a')
    await world.waitForMarker(runId, 'holding-b')

    await world.kill(api.pid)
    // Released while the API is down: a's and b's next post meets a refused connection, and the
    // steps' ends are recorded by the tick loop meanwhile.
    world.touch(runId, 'release')
    api = await world.startApi(API_ONLY)

    await world.expectCompleted(runId)
    await world.expectConsistent(runId)
    const starts = readMarkers(world.outDir, runId).attempts.map((attempt) => attempt.stepId)
    expect(starts.sort()).toEqual(['a', 'b', 'c', 'd'])
    const fields = await world.client.fields(runId)
    for (const id of ['a', 'b', 'c', 'd']) expect(Object.keys(fields.get(id) ?? {})).toHaveLength(2)
  })

  it("completes the run when the API dies while it serves a script's request", async () => {
    const runId = await world.trigger({
      start: { post: [stage('only', true, [work('a', { env: { HOLD: '1', POST_AFTER: '1' } })])] },
    })
    await world.waitForMarker(runId, 'holding-a')
    // The test holds a's row, so the API, serving a's next fields post, waits on it with the
    // request read and no answer sent; killed then, it drops the connection under the request.
    const sql = postgres(world.databaseEnv.MAXQ_DATABASE_URL!, { max: 2, onnotice: () => undefined })
    try {
      await sql.begin(async (tx) => {
        await tx`SELECT 1 FROM steps WHERE run_id = ${runId} AND step_id = 'a' FOR UPDATE`
        world.touch(runId, 'release')
        await waitFor(
          async () => {
            const [row] = await sql<{ n: number }[]>`
              SELECT count(*)::int AS n FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%SET fields%'`
            return row!.n > 0
          },
          { timeoutMs: 30_000, intervalMs: 20, message: "a's fields post never reached the API" },
        )
        await world.kill(api.pid)
      })
    } finally {
      await sql.end({ timeout: 5 })
    }
    api = await world.startApi(API_ONLY)

    await world.expectCompleted(runId)
    await world.expectConsistent(runId)
    expect(Object.keys((await world.client.fields(runId)).get('a') ?? {})).toHaveLength(2)
  })
})
