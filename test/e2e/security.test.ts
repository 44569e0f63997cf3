// End to end with MAXQ_API_TOKEN set: real flows whose scripts authenticate with their run's
// MAXQ_TOKEN, a step that prints its whole environment, and the server's own secrets, which no
// script and no API client may see.

import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testDatabases } from '../support/dialects.js'
import { cleanEnv, freePort, PACKAGE_ROOT } from '../support/start-server.js'
import { waitFor } from '../support/wait-for.js'
import { expectApiError, FLOWS_ROOT, probe, stage, startE2eServer, type E2eServer } from './e2e-server.js'

const API_TOKEN = 'e2e-api-token-5d41402abc4b2a76b9719d911017c592'
const SERVER_SECRETS = {
  AWS_SECRET_ACCESS_KEY: 'aws-secret-wJalrXUtnFEMI',
  SERVER_ONLY_VALUE: 'server-only-7f3a9c',
}
const STEP_SECRET = 'step-secret-c0ffee42'
/** MAXQ_ABORT_GRACE_MS here: short, so that the run token's end is seen soon. */
const RUN_END_GRACE_MS = 1_000

/** What a script's environment may hold beyond the step's own env. */
const ALLOWED = /^(PATH|HOME|LANG|LC_\w+|TZ|USER|LOGNAME|TMPDIR|E2E_OUT|MAXQ_[A-Z_]+|PWD|SHLVL|_|OLDPWD)$/

describe.each(testDatabases)('e2e security ($name)', (database) => {
  let e2e: E2eServer

  beforeAll(async () => {
    e2e = await startE2eServer(database, {
      // A run's token works this long after its run ended (a flow call may outlive it), then stops.
      env: { MAXQ_API_TOKEN: API_TOKEN, MAXQ_ABORT_GRACE_MS: String(RUN_END_GRACE_MS), ...SERVER_SECRETS },
    })
  })

  afterAll(async () => {
    await e2e?.close()
  })

  it('refuses an unauthenticated trigger and changes nothing', async () => {
    const before = await e2e.expectJson<{ pagination: { total: number } }>('GET', '/runs', 200)
    expectApiError(
      await e2e.request('POST', '/flows/scripted/runs', {}, { authorization: '' }),
      401,
      'UNAUTHORIZED',
    )
    expectApiError(
      await e2e.request('POST', '/flows/scripted/runs', {}, { authorization: `Bearer wrong-${API_TOKEN}` }),
      401,
      'UNAUTHORIZED',
    )
    const after = await e2e.expectJson<{ pagination: { total: number } }>('GET', '/runs', 200)
    expect(after.pagination.total).toBe(before.pagination.total)
  })

  it('runs flows whose scripts use their run token; no script or client sees a server secret', async () => {
    const runId = await e2e.trigger({
      start: {
        post: [
          stage('one', false, [
            probe('dump', {
              env: { DUMP_ENV: '1', API_TOKEN: STEP_SECRET, FIELDS: '{"n":1}', LOG: 'logged' },
            }),
          ]),
        ],
      },
      'completed:one': { post: [stage('two', true, [probe('last')])] },
    })
    expect((await e2e.waitForRun(runId, ['completed', 'failed'])).status).toBe('completed')

    // What the step saw: only the minimal environment, its own env and its run token.
    const dumped = e2e.readOut(runId, 'env-dump') ?? ''
    const env = Object.fromEntries(
      dumped
        .trim()
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    )
    expect(env.API_TOKEN).toBe(STEP_SECRET)
    expect(env.MAXQ_TOKEN).toMatch(/^maxq-run\./)
    for (const value of [...Object.values(SERVER_SECRETS), API_TOKEN]) expect(dumped).not.toContain(value)
    const unexpected = Object.keys(env).filter(
      (name) => !ALLOWED.test(name) && !['DUMP_ENV', 'API_TOKEN', 'FIELDS', 'LOG'].includes(name),
    )
    expect(unexpected).toEqual([])
    expect(Object.keys(env)).not.toContain('MAXQ_API_TOKEN')
    expect(Object.keys(env)).not.toContain('MAXQ_DATABASE_URL')
    expect(Object.keys(env)).not.toContain('MAXQ_SQLITE_PATH')

    // What a client sees: the secret and the token are masked in the answer and in the output.
    const step = await e2e.getStep(runId, 'dump')
    expect((step as unknown as { env: Record<string, string> }).env.API_TOKEN).toBe('***')
    expect(step.stdout).toContain('API_TOKEN=***')
    expect(step.stdout).toContain('MAXQ_TOKEN=***')
    // The fixture flow carries its stage definitions in the run's input (the client's own data,
    // shown as given); everything else of the run is checked.
    const { input, ...run } = await e2e.getRun(runId)
    expect(input).toBeDefined()
    const everything = JSON.stringify([
      run,
      await e2e.request('GET', `/runs/${runId}/steps`),
      await e2e.request('GET', `/runs/${runId}/logs`),
      await e2e.request('GET', `/runs/${runId}/flow-calls`),
    ])
    for (const value of [
      STEP_SECRET,
      env.MAXQ_TOKEN ?? 'none',
      ...Object.values(SERVER_SECRETS),
      API_TOKEN,
    ]) {
      expect(everything).not.toContain(value)
    }
    expect(e2e.server.logs()).not.toContain(STEP_SECRET)

    // The run has ended: once the grace has passed, its token no longer works, not even on its run.
    const token = env.MAXQ_TOKEN ?? ''
    const asTheRun = () =>
      e2e.request('GET', `/runs/${runId}`, undefined, { authorization: `Bearer ${token}` })
    const refused = await waitFor(
      async () => {
        const res = await asTheRun()
        return res.status === 401 ? res : null
      },
      { timeoutMs: RUN_END_GRACE_MS + 10_000, message: 'the run token still works after the grace' },
    )
    // waitFor answers only a truthy value (or throws at its timeout).
    expectApiError(refused as NonNullable<typeof refused>, 401, 'UNAUTHORIZED')
  })

  it("refuses one run's token on another run, which stays unchanged", async () => {
    const held = await e2e.trigger({
      start: { post: [stage('held', true, [probe('h', { env: { HOLD: '1' } })])] },
    })
    const other = await e2e.trigger({
      start: { post: [stage('held', true, [probe('h', { env: { HOLD: '1' } })])] },
    })
    await e2e.waitForOut(held, 'holding-h')
    await e2e.waitForOut(other, 'holding-h')
    const token = e2e.stepRecords(held, 'h')[0]?.env.MAXQ_TOKEN ?? ''
    expect(token).toMatch(/^maxq-run\./)
    const auth = { authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }
    expect((await e2e.request('GET', `/runs/${held}`, undefined, auth)).status).toBe(200)
    const before = await e2e.getRun(other)
    expectApiError(await e2e.request('POST', `/runs/${other}/abort`, undefined, auth), 403, 'FORBIDDEN')
    expectApiError(await e2e.request('GET', `/runs/${other}/steps`, undefined, auth), 403, 'FORBIDDEN')
    expectApiError(await e2e.request('GET', '/runs', undefined, auth), 403, 'FORBIDDEN')
    expectApiError(await e2e.request('POST', '/flows/scripted/runs', {}, auth), 403, 'FORBIDDEN')
    expect(await e2e.getRun(other)).toEqual(before)
    e2e.writeOut(held, 'release-h', '')
    e2e.writeOut(other, 'release-h', '')
    expect((await e2e.waitForRun(held, ['completed', 'failed'])).status).toBe('completed')
    expect((await e2e.waitForRun(other, ['completed', 'failed'])).status).toBe('completed')
  })
})

describe('the exposure warning', () => {
  async function startupLines(env: Record<string, string>): Promise<string> {
    const port = await freePort()
    const child = spawn(process.execPath, ['dist/wrangler-free-local/main.js'], {
      cwd: PACKAGE_ROOT,
      env: {
        ...cleanEnv(),
        MAXQ_FLOWS_ROOT: FLOWS_ROOT,
        MAXQ_SQLITE_PATH: ':memory:', // one process: nothing to share, nothing left behind
        MAXQ_PORT: String(port),
        ...env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    try {
      await waitFor(() => /listening on/.test(stderr), { timeoutMs: 20_000, message: `no start: ${stderr}` })
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    }
    return stderr
  }

  it('is one line when listening beyond loopback without MAXQ_API_TOKEN', async () => {
    const lines = (await startupLines({ MAXQ_HOST: '0.0.0.0' })).split('\n').filter((l) => l.includes('WARN'))
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/0\.0\.0\.0:\d+ without MAXQ_API_TOKEN: anyone who can reach this port/)
    expect(lines[0]).toContain('set MAXQ_API_TOKEN')
  })

  it("is not given on loopback, the local runner's default, nor with a token", async () => {
    const local = await startupLines({})
    expect(local).toMatch(/listening on http:\/\/127\.0\.0\.1:/)
    expect(local).not.toContain('WARN')
    expect(await startupLines({ MAXQ_HOST: '0.0.0.0', MAXQ_API_TOKEN: API_TOKEN })).not.toContain('WARN')
  })
})
