// A new user's flow with three mistakes in one stage post (a misspelled step name, a misspelled key,
// a step script that is not executable), run for real: the run's log and `maxq watch` name each.

import { spawn } from 'node:child_process'
import { chmod } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testDatabases } from '../support/dialects.js'
import { cleanEnv, PACKAGE_ROOT, startServer, type RunningServer } from '../support/start-server.js'
import { createTempDir, removeDir, writeFlow } from '../support/temp-flows.js'
import { waitFor } from '../support/wait-for.js'

const STAGE = JSON.stringify({
  stage: 'fetch',
  final: true,
  steps: [
    { id: 'prices', name: 'fetch_pricse' },
    { id: 'news', name: 'fetch_news', depends_on: ['prices'] },
    { id: 'report', name: 'report' },
  ],
})

const FLOW = `set -euo pipefail
curl -sS --fail-with-body -X POST "$MAXQ_API/runs/$MAXQ_RUN_ID/steps" \\
  -H 'Content-Type: application/json' -H "Authorization: Bearer $MAXQ_TOKEN" -d '${STAGE}'`

interface Log {
  level: string
  message: string
}

function watch(server: RunningServer, runId: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/maxq.js', 'watch', runId], {
      cwd: PACKAGE_ROOT,
      env: { ...cleanEnv(), MAXQ_URL: server.baseUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.once('error', reject)
    child.once('exit', (code) => resolve({ code, stdout }))
  })
}

describe.each(testDatabases)('e2e: mistakes in a flow are named ($name)', (database) => {
  let flowsRoot: string
  let server: RunningServer
  let dispose: () => Promise<void>

  beforeAll(async () => {
    flowsRoot = await createTempDir('maxq-mistakes-')
    await writeFlow(flowsRoot, 'typos', {
      flow: FLOW,
      steps: { fetch_prices: 'exit 0', fetch_news: 'exit 0', report: 'exit 0' },
    })
    await chmod(path.join(flowsRoot, 'typos', 'steps', 'report', 'step.sh'), 0o644)
    const opened = await database.open()
    dispose = opened.dispose
    server = await startServer({ flowsRoot, databaseEnv: opened.databaseEnv })
  })

  afterAll(async () => {
    await server?.stop()
    await dispose?.()
    await removeDir(flowsRoot)
  })

  it('fails the run and says what each mistake was', async () => {
    const triggered = await fetch(`${server.apiBase}/flows/typos/runs`, { method: 'POST', body: '{}' })
    const { id } = (await triggered.json()) as { id: string }
    let run: { status: string; error: unknown } = { status: 'pending', error: null }
    await waitFor(
      async () => {
        run = (await (await fetch(`${server.apiBase}/runs/${id}`)).json()) as typeof run
        return run.status === 'failed'
      },
      { timeoutMs: 20_000, message: 'the run did not fail' },
    )
    // The flow exited 22 (curl --fail-with-body under set -e); the run's error carries the refusal.
    expect(JSON.stringify(run.error)).toContain('depends_on')

    const { logs } = (await (await fetch(`${server.apiBase}/runs/${id}/logs`)).json()) as { logs: Log[] }
    const warning = logs.find((log) => log.level === 'warn' && log.message.includes('refused'))?.message ?? ''
    expect(warning).toContain('depends_on')
    expect(warning).toContain('dependsOn') // the key that was probably meant
    expect(warning).toContain('fetch_pricse')
    expect(warning).toMatch(/report.*not executable|not executable.*report/)

    const watched = await watch(server, id)
    expect(watched.code).toBe(1)
    for (const mistake of ['depends_on', 'fetch_pricse', 'report']) expect(watched.stdout).toContain(mistake)
    expect(watched.stdout).toContain('error:')
  })
})
