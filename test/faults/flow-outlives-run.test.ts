// Fault suite (issue 17): a flow call that keeps running after it scheduled its run's final stage.
// The final stage completes, and so the run, while the flow script still works. The call must end
// on its own terms: its real exit recorded, not `failed`, not terminated, as long as it ends within
// MAXQ_ABORT_GRACE_MS of the run's end; past that it is terminated and recorded as terminated after
// the run's end (terminationReason `run_ended`), still not failed, and the run stays completed.
// The local runner, on both databases (issue 17 saw it on SQLite without any crash).

import { afterAll, beforeAll, describe, it } from 'vitest'
import { testDatabases } from '../support/dialects.js'
import { waitFor } from '../support/wait-for.js'
import { isAlive, readMarkers, stage, work } from './fault-flow.js'
import { LOCAL_RUNNER, startFaultWorld, type FaultWorld } from './fault-world.js'

const GRACE_MS = 4_000

describe.each(testDatabases)('fault: a flow call outlives its run ($name)', (database) => {
  let world: FaultWorld

  beforeAll(async () => {
    world = await startFaultWorld(database, { env: { MAXQ_ABORT_GRACE_MS: String(GRACE_MS) } })
    await world.startApi(LOCAL_RUNNER)
  })

  afterAll(async () => {
    await world?.close()
  })

  // Each test is a run of its own on the one server: they run side by side to keep the suite short.

  it.concurrent(
    'lets a flow that sleeps 3 s after scheduling the final stage finish, and records its exit 0',
    async ({ expect }) => {
      const runId = await world.trigger({
        start: { post: [stage('only', true, [work('a')])], sleepAfter: 3 },
      })
      const run = await world.waitForRun(runId)
      expect(run.status).toBe('completed')
      // The call ends after the run: wait for its record to settle, then compare it with the script.
      const calls = await world.waitForFlowCallsSettled(runId)
      expect(calls.map((call) => [call.status, call.exitCode, call.terminationReason ?? null])).toEqual([
        ['completed', 0, null],
      ])
      const flow = readMarkers(world.outDir, runId).flow
      expect(flow.map((attempt) => [attempt.key, attempt.exitCode])).toEqual([['start', 0]])
      expect((await world.client.getRun(runId)).status).toBe('completed')
      await world.expectConsistent(runId)
    },
  )

  it.concurrent(
    'terminates a flow call still running MAXQ_ABORT_GRACE_MS after the run ended, as run_ended, not failed',
    async ({ expect }) => {
      const runId = await world.trigger({
        start: { post: [stage('only', true, [work('a')])], sleepAfter: 120 },
      })
      await world.expectCompleted(runId)
      const calls = await world.waitForFlowCallsSettled(runId, GRACE_MS + 20_000)
      expect(calls).toHaveLength(1)
      expect(calls[0]!.status).not.toBe('failed')
      expect(calls[0]!.terminationReason).toBe('run_ended')
      // The script got its SIGTERM: its exit line says 143, and nothing of it is left running.
      const flow = readMarkers(world.outDir, runId).flow
      expect(flow.map((attempt) => [attempt.key, attempt.exitCode])).toEqual([['start', 143]])
      await waitFor(() => flow.every((attempt) => !isAlive(attempt.pid)), { timeoutMs: 10_000 })
      expect((await world.client.getRun(runId)).status).toBe('completed')
    },
  )
})
