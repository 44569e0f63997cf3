// Fault suite (issue 17): two `maxq tick --watch` processes race on the last steps of a stage. The
// steps of each stage are spread over both ticks (one claim takes one step) and all end together
// (they wait for one file the test creates), so the "last sibling finished" decision is taken in
// two processes at once: each stage must end exactly once and its flow callback run exactly once.
// PostgreSQL: several tick processes on one database.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { postgresDatabase } from '../support/dialects.js'
import { waitFor } from '../support/wait-for.js'
import { readMarkers, stage, work } from './fault-flow.js'
import { API_ONLY, startFaultWorld, type FaultWorld } from './fault-world.js'
import { existsSync, writeFileSync } from 'node:fs'
import path from 'node:path'

const RUNS = 3
const STEPS_PER_STAGE = 4

describe('fault: two ticks race on the last step of a stage (postgres)', () => {
  let world: FaultWorld

  beforeAll(async () => {
    world = await startFaultWorld(postgresDatabase, {
      env: { MAXQ_SCHEDULER_BATCH_SIZE: '1', MAXQ_LEASE_MS: '120000' },
    })
    await world.startApi(API_ONLY)
    world.startTick()
    world.startTick()
  })

  afterAll(async () => {
    await world?.close()
  })

  it('ends each stage once and calls its flow back once', async () => {
    const ids = Array.from({ length: STEPS_PER_STAGE }, (_, i) => `w${i}`)
    const runIds: string[] = []
    for (let i = 0; i < RUNS; i++) {
      runIds.push(
        await world.trigger({
          start: {
            post: [
              stage(
                'first',
                false,
                ids.map((id) => work(id, { env: { HOLD: '1', POST_AFTER: '1' } })),
              ),
            ],
          },
          'completed:first': { post: [stage('second', true, [work('last')])] },
        }),
      )
    }
    // Every step of every run is holding; then all are let go at once.
    await waitFor(
      () =>
        runIds.every((runId) =>
          ids.every((id) => existsSync(path.join(world.outDir, runId, `holding-${id}`))),
        ),
      { timeoutMs: 45_000, intervalMs: 50, message: 'not every step started' },
    ).catch(async (error: unknown) => {
      throw new Error(`${String(error)}\n${await world.describe(runIds[0]!)}`)
    })
    writeFileSync(path.join(world.outDir, 'release'), '')

    for (const runId of runIds) {
      await world.expectCompleted(runId)
      await world.expectConsistent(runId)
      const calls = await world.waitForFlowCallsSettled(runId)
      expect(calls.map((call) => [call.completedStage, call.status])).toEqual([
        [null, 'completed'],
        ['first', 'completed'],
      ])
      expect(readMarkers(world.outDir, runId).flow.map((call) => call.key)).toEqual([
        'start',
        'completed:first',
      ])
      const starts = readMarkers(world.outDir, runId).attempts.map((attempt) => attempt.stepId)
      expect(starts.sort()).toEqual([...ids, 'last'].sort())
      const run = await world.client.json<{ stages: { name: string; status: string }[] }>(
        'GET',
        `/runs/${runId}`,
        200,
      )
      expect(run.stages.map((s) => [s.name, s.status])).toEqual([
        ['first', 'completed'],
        ['second', 'completed'],
      ])
    }
  })
})
