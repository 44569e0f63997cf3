// End to end (issue 18): `maxq serve` runs the API only. A run triggered with no worker alive
// waits, says why (`waitingFor: no_worker`, in GET /runs/{run} and `maxq show`), and after
// MAXQ_NO_WORKER_WARNING_MS the server's log warns, naming the command that starts a worker.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sqliteDatabase } from '../support/dialects.js'
import { runCli } from '../support/run-cli.js'
import { cleanEnv } from '../support/start-server.js'
import { waitFor } from '../support/wait-for.js'
import { probe, stage, startE2eServer, type E2eServer } from './e2e-server.js'

describe('e2e maxq serve with no worker (sqlite)', () => {
  let e2e: E2eServer

  beforeAll(async () => {
    e2e = await startE2eServer(sqliteDatabase, {
      args: ['bin/maxq.js', 'serve'],
      env: { MAXQ_NO_WORKER_WARNING_MS: '1000' },
    })
  })

  afterAll(async () => {
    await e2e?.close()
  })

  it('explains the waiting run and warns how to start a worker', async () => {
    const runId = await e2e.trigger({ start: { post: [stage('only', true, [probe('a')])] } })

    const warning = await waitFor(
      () =>
        e2e.server
          .logs()
          .split('\n')
          .find((line) => / WARN maxq: a run is waiting and no worker has been seen/.test(line)),
      { timeoutMs: 30_000, message: `no warning in:\n${e2e.server.logs()}` },
    )
    expect(warning).toContain('Start a worker with `maxq tick --watch`')

    const run = await e2e.expectJson<{ status: string; waitingFor: unknown }>('GET', `/runs/${runId}`, 200)
    expect(run.status).toBe('pending')
    expect(run.waitingFor).toEqual({ reason: 'no_worker' })

    const env = { ...cleanEnv(), MAXQ_URL: e2e.server.baseUrl }
    const shown = await runCli(env, ['show', runId])
    expect(shown.code).toBe(0)
    expect(shown.stdout).toContain('pending')
    expect(shown.stdout).toContain('waiting: no_worker (no worker is alive; start one: maxq tick --watch)')
    const json = await runCli(env, ['show', runId, '--json'])
    expect((JSON.parse(json.stdout) as { waitingFor: unknown }).waitingFor).toEqual({ reason: 'no_worker' })
  })
})
