// End to end: how the local runner starts and stops. MAXQ_PORT=0 must give scripts the port
// actually bound; invalid configuration stops start-up with one line naming the variable; SIGTERM
// shuts down cleanly.

import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testDatabases } from '../support/dialects.js'
import { cleanEnv, PACKAGE_ROOT } from '../support/start-server.js'
import { FLOWS_ROOT, probe, stage, startE2eServer, type E2eServer } from './e2e-server.js'

function runLocal(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/wrangler-free-local/main.js'], {
      cwd: PACKAGE_ROOT,
      env: { ...cleanEnv(), MAXQ_FLOWS_ROOT: FLOWS_ROOT, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.once('error', reject)
    child.once('exit', (code) => resolve({ code, stderr }))
  })
}

describe.each(testDatabases)('e2e startup ($name)', (database) => {
  let e2e: E2eServer

  beforeAll(async () => {
    e2e = await startE2eServer(database, { port: 0 })
  })

  afterAll(async () => {
    await e2e?.close()
  })

  it('with MAXQ_PORT=0, gives scripts the port the server actually bound', async () => {
    expect(e2e.server.apiBase).not.toMatch(/:0\//)
    const runId = await e2e.trigger({ start: { post: [stage('only', true, [probe('a')])] } })
    expect((await e2e.waitForRun(runId, ['completed', 'failed'])).status).toBe('completed')
    expect(e2e.flowCalls(runId)[0]?.env.MAXQ_API).toBe(e2e.server.apiBase)
    expect(e2e.stepRecords(runId, 'a')[0]?.env.MAXQ_API).toBe(e2e.server.apiBase)
  })
})

describe('e2e startup configuration', () => {
  it.each([
    ['MAXQ_PORT', 'abc'],
    ['MAXQ_PORT', '70000'],
    ['MAXQ_SCHEDULER_INTERVAL_MS', '-5'],
    ['MAXQ_SCHEDULER_BATCH_SIZE', '0'],
    ['MAXQ_DATABASE_URL', 'mysql://localhost/maxq'],
    ['MAXQ_FLOWS_ROOT', '/no/such/directory'],
    ['LOG_LEVEL', 'chatty'],
  ])('refuses %s=%s with one line naming the variable', async (name, value) => {
    const result = await runLocal({ MAXQ_SQLITE_PATH: '/nonexistent-dir/never-opened.db', [name]: value })
    expect(result.code).toBe(1)
    const lines = result.stderr.trim().split('\n')
    expect(lines, result.stderr).toHaveLength(1)
    expect(lines[0]).toContain(name)
  })
})
