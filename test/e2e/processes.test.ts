// End to end: MaxQ ends the processes it started. An abort and a step timeout must leave no
// script and no child of a script running. The probe step records its shell's pid and the pid of
// the `sleep` it started; the test checks both are gone (not only that the API says so).

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testDatabases } from '../support/dialects.js'
import { waitFor } from '../support/wait-for.js'
import { isAlive, probe, stage, startE2eServer, type E2eServer } from './e2e-server.js'

describe.each(testDatabases)('e2e processes ($name)', (database) => {
  let e2e: E2eServer

  beforeAll(async () => {
    e2e = await startE2eServer(database)
  })

  afterAll(async () => {
    await e2e?.close()
  })

  async function pidsOf(runId: string, stepId: string): Promise<number[]> {
    const sleepPid = Number((await e2e.waitForOut(runId, `pid-sleep-${stepId}`)).trim())
    const shellPid = Number(e2e.readOut(runId, `pid-shell-${stepId}`)?.trim())
    expect(sleepPid).toBeGreaterThan(0)
    expect(shellPid).toBeGreaterThan(0)
    return [shellPid, sleepPid]
  }

  async function waitUntilGone(pids: number[]): Promise<void> {
    await waitFor(() => pids.every((pid) => !isAlive(pid)), {
      timeoutMs: 15_000,
      message: `processes ${pids.join(', ')} are still running`,
    })
  }

  it('aborts a run: kills the running step and its children, fails open work, and is idempotent', async () => {
    const runId = await e2e.trigger({
      start: {
        post: [
          stage('sleepy', false, [
            probe('s', { env: { SLEEP: '300' } }),
            probe('later', { dependsOn: ['s'] }),
          ]),
        ],
      },
    })
    const pids = await pidsOf(runId, 's')
    expect(pids.every(isAlive)).toBe(true)

    const aborted = await e2e.request('POST', `/runs/${runId}/abort`)
    expect(aborted.status).toBe(200)
    expect(aborted.body).toEqual({
      message: expect.any(String),
      processesKilled: expect.any(Number),
      alreadyCompleted: false,
    })
    expect((aborted.body as { processesKilled: number }).processesKilled).toBeGreaterThanOrEqual(1)

    const run = await e2e.waitForRun(runId, ['failed', 'completed'])
    expect(run).toMatchObject({ status: 'failed', terminationReason: 'aborted' })
    await waitUntilGone(pids)

    const s = await e2e.waitForStep(runId, 's', ['failed', 'cancelled'])
    expect(s.terminationReason).toBe('aborted')
    const later = await e2e.getStep(runId, 'later')
    expect(['failed', 'cancelled']).toContain(later.status)
    expect(e2e.outExists(runId, 'step-later.jsonl')).toBe(false)

    const again = await e2e.request('POST', `/runs/${runId}/abort`)
    expect(again.status).toBe(200)
    expect(again.body).toMatchObject({ alreadyCompleted: true })
    expect((await e2e.getRun(runId)).status).toBe('failed')
  })

  it('aborts a run whose step ignores SIGTERM: SIGKILL after the grace period ends it', async () => {
    const runId = await e2e.trigger({
      start: { post: [stage('stubborn', true, [probe('s', { env: { SLEEP: '300', IGNORE_TERM: '1' } })])] },
    })
    const pids = await pidsOf(runId, 's')
    const aborted = await e2e.request('POST', `/runs/${runId}/abort`)
    expect(aborted.status).toBe(200)
    expect(aborted.body).toMatchObject({ alreadyCompleted: false })
    expect(await e2e.waitForRun(runId, ['failed', 'completed'])).toMatchObject({
      status: 'failed',
      terminationReason: 'aborted',
    })
    await waitUntilGone(pids)
  })

  it('aborts a run while its flow script is running, and ends the flow process', async () => {
    const runId = await e2e.trigger({ start: { hold: true } })
    const sleepPid = Number((await e2e.waitForOut(runId, 'flow-pid-sleep')).trim())
    const shellPid = Number(e2e.readOut(runId, 'flow-pid-shell')?.trim())
    expect([shellPid, sleepPid].every(isAlive)).toBe(true)
    const aborted = await e2e.request('POST', `/runs/${runId}/abort`)
    expect(aborted.status).toBe(200)
    expect(aborted.body).toMatchObject({ alreadyCompleted: false })
    expect((aborted.body as { processesKilled: number }).processesKilled).toBeGreaterThanOrEqual(1)
    expect(await e2e.waitForRun(runId, ['failed', 'completed'])).toMatchObject({
      status: 'failed',
      terminationReason: 'aborted',
    })
    await waitUntilGone([shellPid, sleepPid])
  })

  it('fails a step that outlives timeoutSeconds and kills its processes', async () => {
    const runId = await e2e.trigger({
      start: { post: [stage('slow', true, [probe('s', { timeoutSeconds: 1, env: { SLEEP: '300' } })])] },
    })
    const pids = await pidsOf(runId, 's')
    const run = await e2e.waitForRun(runId, ['failed', 'completed'])
    expect(run.status).toBe('failed')
    const step = await e2e.getStep(runId, 's')
    expect(step.status).toBe('failed')
    expect(step.exitCode).not.toBe(0)
    expect(JSON.stringify({ error: step.error, terminationReason: step.terminationReason })).toMatch(/time/i)
    await waitUntilGone(pids)
    expect(e2e.events(runId).some((event) => event.kind === 'end')).toBe(false)
  })
})
