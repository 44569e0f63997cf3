// Fault suite (issue 17): scripts that do not end when asked. A step that ignores SIGTERM is killed
// with SIGKILL MAXQ_ABORT_GRACE_MS after its timeout or its run's abort, children included; a step
// that exits leaving a background child behind does not leave it running. Checked on the processes
// themselves (the pids the step recorded), not only on what the API says. The local runner, on
// both databases.

import { afterAll, beforeAll, describe, it } from 'vitest'
import { testDatabases } from '../support/dialects.js'
import { waitFor } from '../support/wait-for.js'
import { isAlive, recordedPids, stage, work } from './fault-flow.js'
import { LOCAL_RUNNER, startFaultWorld, type FaultWorld } from './fault-world.js'

const GRACE_MS = 500

describe.each(testDatabases)('fault: scripts that do not end when asked ($name)', (database) => {
  let world: FaultWorld

  beforeAll(async () => {
    world = await startFaultWorld(database, { env: { MAXQ_ABORT_GRACE_MS: String(GRACE_MS) } })
    await world.startApi(LOCAL_RUNNER)
  })

  afterAll(async () => {
    await world?.close()
  })

  // Each test is a run of its own on the one server: they run side by side to keep the suite short.

  /** The step's script and the sleep it waits on, once both are recorded. */
  async function stepPids(runId: string, count: number): Promise<number[]> {
    return waitFor(
      () => {
        const pids = recordedPids(world.outDir, [runId], { stepsOnly: true })
        return pids.length >= count ? pids : null
      },
      { timeoutMs: 30_000, intervalMs: 50, message: `the step never recorded ${count} pids` },
    ).then((pids) => pids!)
  }

  async function expectGone(pids: number[]): Promise<void> {
    await waitFor(() => pids.every((pid) => !isAlive(pid)), {
      timeoutMs: 15_000,
      message: `still running: ${pids.filter(isAlive).join(', ')}`,
    })
  }

  it.concurrent(
    'kills a step that ignores SIGTERM after its timeout, children included',
    async ({ expect }) => {
      const runId = await world.trigger({
        start: {
          post: [
            stage('slow', true, [work('s', { timeoutSeconds: 1, env: { IGNORE_TERM: '1', SLEEP: '300' } })]),
          ],
        },
      })
      const pids = await stepPids(runId, 2)
      const run = await world.waitForRun(runId)
      expect(run.status).toBe('failed')
      const step = await world.client.getStep(runId, 's')
      expect(step.status).toBe('failed')
      expect(JSON.stringify({ error: step.error, reason: step.terminationReason })).toMatch(/time/i)
      await expectGone(pids)
    },
  )

  it.concurrent(
    'kills a step that ignores SIGTERM after its run is aborted, children included',
    async ({ expect }) => {
      const runId = await world.trigger({
        start: { post: [stage('stubborn', true, [work('s', { env: { IGNORE_TERM: '1', SLEEP: '300' } })])] },
      })
      const pids = await stepPids(runId, 2)
      expect(pids.every(isAlive)).toBe(true)
      const aborted = await world.client.request('POST', `/runs/${runId}/abort`)
      expect(aborted.status).toBe(200)
      const run = await world.waitForRun(runId)
      expect(run).toMatchObject({ status: 'failed', terminationReason: 'aborted' })
      await expectGone(pids)
      expect((await world.client.getStep(runId, 's')).terminationReason).toBe('aborted')
    },
  )

  it.concurrent('does not let a background child outlive the step that started it', async ({ expect }) => {
    const runId = await world.trigger({
      start: { post: [stage('leaky', true, [work('a', { env: { BG_CHILD: '1' } }), work('b')])] },
    })
    await world.expectCompleted(runId)
    await world.expectConsistent(runId)
    const pids = recordedPids(world.outDir, [runId], { stepsOnly: true })
    // a's script, its `sleep 300 &`, b's script.
    expect(pids).toHaveLength(3)
    await expectGone(pids)
  })
})
