// End to end: the production shape. `maxq serve` (the API alone) and the scheduler as separate OS
// processes on one database: first `maxq tick --watch`, then the one-shot `maxq tick` run again and
// again (as cron would), whose steps run under a detached supervisor that outlives each tick.

import { spawn, type ChildProcess } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testDatabases } from '../support/dialects.js'
import { PACKAGE_ROOT } from '../support/start-server.js'
import { runCli } from '../support/run-cli.js'
import { probe, stage, until, startE2eServer, type E2eServer, type FlowCalls } from './e2e-server.js'

const TWO_STAGES: FlowCalls = {
  start: {
    post: [
      stage('first', false, [probe('a', { env: { FIELDS: '{"n":1}' } }), probe('b', { dependsOn: ['a'] })]),
    ],
  },
  'completed:first': { post: [stage('second', true, [probe('c')])] },
}

describe.each(testDatabases)('e2e separate processes ($name)', (database) => {
  let e2e: E2eServer

  beforeAll(async () => {
    e2e = await startE2eServer(database, { args: ['bin/maxq.js', 'serve'] })
  })

  afterAll(async () => {
    await e2e?.close()
  })

  async function expectCompleted(runId: string): Promise<void> {
    const steps = await e2e.getSteps(runId)
    expect(steps.map((s) => [s.id, s.status, s.exitCode])).toEqual([
      ['a', 'completed', 0],
      ['b', 'completed', 0],
      ['c', 'completed', 0],
    ])
    for (const id of ['a', 'b', 'c']) expect(e2e.stepRecords(runId, id)).toHaveLength(1)
    expect(e2e.flowCalls(runId).map((c) => c.key)).toEqual(['start', 'completed:first'])
  }

  it('completes a run with `maxq serve` and `maxq tick --watch` as separate processes', async () => {
    const worker: ChildProcess = spawn(process.execPath, ['bin/maxq.js', 'tick', '--watch'], {
      cwd: PACKAGE_ROOT,
      env: e2e.server.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    worker.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    worker.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
    try {
      const runId = await e2e.trigger(TWO_STAGES)
      const run = await e2e.waitForRun(runId, ['completed', 'failed']).catch((error: unknown) => {
        throw new Error(
          `${String(error)}\n--- tick --watch ---\n${output}\n--- serve ---\n${e2e.server.logs()}`,
        )
      })
      expect(run.status).toBe('completed')
      await expectCompleted(runId)
    } finally {
      worker.kill('SIGTERM')
      await exited
    }
  })

  it('completes a run with the one-shot `maxq tick` invoked again and again', async () => {
    const runId = await e2e.trigger(TWO_STAGES)
    let ticks = 0
    const outputs: string[] = []
    const run = await until(
      async () => {
        const tick = await runCli(e2e.server.env, ['tick'])
        ticks++
        outputs.push(tick.output)
        expect(tick.code, tick.output).toBe(0)
        const current = await e2e.getRun(runId)
        return ['completed', 'failed'].includes(current.status) ? current : null
      },
      { timeoutMs: 60_000, intervalMs: 1, message: `run ${runId} did not end under one-shot ticks` },
    ).catch((error: unknown) => {
      throw new Error(
        `${String(error)}\n--- ticks ---\n${outputs.slice(-5).join('\n')}\n--- serve ---\n${e2e.server.logs()}`,
      )
    })
    expect(run.status).toBe('completed')
    expect(ticks).toBeGreaterThanOrEqual(2)
    await expectCompleted(runId)
  })
})
