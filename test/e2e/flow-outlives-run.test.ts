// End to end (issue 17): a flow.sh call that schedules its run's final stage and then keeps working.
// The run completes while the call runs; the call is let finish, and its real exit and output are
// recorded, with no SIGTERM. One that is still running MAXQ_ABORT_GRACE_MS after the run's end is
// terminated and recorded as `cancelled` with terminationReason `run_ended`, not failed; the run
// stays completed either way. Real bash flows in a temp flows root, on a real server.

import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testDatabases } from '../support/dialects.js'
import { startServer, type RunningServer } from '../support/start-server.js'
import { createTempDir, removeDir, writeFlow } from '../support/temp-flows.js'
import { waitFor } from '../support/wait-for.js'
import { isAlive, until } from './e2e-server.js'

interface FlowCallView {
  status: string
  exitCode: number | null
  stdout: string | null
  terminationReason: string | null
  completedAt: number | null
}

interface RunView {
  status: string
  completedAt: number | null
  terminationReason: string | null
  stages: Array<{ name: string }>
}

interface LogView {
  level: string
  message: string
}

/**
 * The flow: post a final one-step stage, run `linger`, make sure the run has completed, post one
 * more stage (refused: the run has ended) and exit 0. It writes its pid, and a file if it gets
 * SIGTERM, under <out>/<run>/.
 */
function flowScript(outDir: string, linger: string): string {
  return `set -u
out=${JSON.stringify(outDir)}/"$MAXQ_RUN_ID"
mkdir -p "$out"
echo $$ > "$out/flow-pid"
trap 'echo term > "$out/flow-term"; exit 143' TERM
post() {
  curl -sS -o "$out/$1.body" -w '%{http_code}' -X POST "$MAXQ_API/runs/$MAXQ_RUN_ID/steps" \\
    -H 'Content-Type: application/json' -H "Authorization: Bearer $MAXQ_TOKEN" -d "$2"
}
post final '{"stage":"last","final":true,"steps":[{"id":"a","name":"quick"}]}' > "$out/final.code"
${linger}
# The step is quick, but a loaded machine may be slow: wait until the run has completed.
for _ in $(seq 1 600); do
  curl -sS -H "Authorization: Bearer $MAXQ_TOKEN" "$MAXQ_API/runs/$MAXQ_RUN_ID" | grep -q '"status":"completed"' && break
  sleep 0.1
done
echo "the run has completed"
echo "late post: $(post late '{"stage":"late","final":true,"steps":[{"id":"b","name":"quick"}]}') $(cat "$out/late.body")"
exit 0`
}

describe.each(testDatabases)('e2e: a flow call that outlives its run ($name)', (database) => {
  let root: string
  const servers: RunningServer[] = []
  const disposers: Array<() => Promise<void>> = []

  async function serve(graceMs: number): Promise<RunningServer> {
    const opened = await database.open()
    disposers.push(opened.dispose)
    const server = await startServer({
      flowsRoot: path.join(root, 'flows'),
      databaseEnv: opened.databaseEnv,
      env: { MAXQ_ABORT_GRACE_MS: String(graceMs) },
    })
    servers.push(server)
    return server
  }

  beforeAll(async () => {
    root = await createTempDir('maxq-outlives-')
    const outDir = path.join(root, 'out')
    // `sleep 3` returns in the normal course; `sleep 300` only by the group's SIGTERM (then the trap).
    await writeFlow(path.join(root, 'flows'), 'lingers', {
      flow: flowScript(outDir, 'sleep 3'),
      steps: { quick: 'exit 0' },
    })
    await writeFlow(path.join(root, 'flows'), 'outlives', {
      flow: flowScript(outDir, 'echo "sleeping on"\nsleep 300'),
      steps: { quick: 'exit 0' },
    })
  })

  afterAll(async () => {
    for (const server of servers) await server.stop()
    for (const dispose of disposers) await dispose()
    await removeDir(root)
  })

  async function get<T>(server: RunningServer, urlPath: string): Promise<T> {
    const res = await fetch(`${server.apiBase}${urlPath}`)
    expect(res.status).toBe(200)
    return (await res.json()) as T
  }

  async function trigger(server: RunningServer, flow: string): Promise<string> {
    const res = await fetch(`${server.apiBase}/flows/${flow}/runs`, { method: 'POST', body: '{}' })
    expect(res.status).toBe(201)
    return ((await res.json()) as { id: string }).id
  }

  /** The run's one flow call, once it is no longer running. */
  async function endedCall(server: RunningServer, runId: string): Promise<FlowCallView> {
    return until(
      async () => {
        const { flowCalls } = await get<{ flowCalls: FlowCallView[] }>(server, `/runs/${runId}/flow-calls`)
        expect(flowCalls).toHaveLength(1)
        const call = flowCalls[0]!
        return call.status === 'queued' || call.status === 'running' ? null : call
      },
      { timeoutMs: 60_000, intervalMs: 100, message: `the flow call of run ${runId} never ended` },
    )
  }

  const outFile = (runId: string, file: string) => path.join(root, 'out', runId, file)

  it('lets a flow that sleeps 3 s after scheduling the final stage finish: exit 0 recorded, no SIGTERM', async () => {
    // A grace far longer than the flow's sleep: it must end on its own.
    const server = await serve(60_000)
    const runId = await trigger(server, 'lingers')
    const call = await endedCall(server, runId)
    const run = await get<RunView>(server, `/runs/${runId}`)
    expect(run).toMatchObject({ status: 'completed', terminationReason: null, stages: [{ name: 'last' }] })
    expect(call).toMatchObject({ status: 'completed', exitCode: 0, terminationReason: null })
    // It ended after the run did, and its output is its own: the late post was refused with a 409.
    expect(call.completedAt!).toBeGreaterThanOrEqual(run.completedAt!)
    expect(call.stdout).toContain('the run has completed')
    expect(call.stdout).toMatch(/late post: 409 .*RUN_NOT_ACTIVE.*"status":"completed"/)
    expect(isAlive(Number(await readText(outFile(runId, 'flow-pid'))))).toBe(false)
    expect(await readText(outFile(runId, 'flow-term'))).toBe(null)

    const { logs } = await get<{ logs: LogView[] }>(server, `/runs/${runId}/logs?limit=100`)
    expect(logs).toContainEqual(
      expect.objectContaining({
        level: 'info',
        message: expect.stringMatching(/exited 0 after the run completed/),
      }),
    )
    expect(logs).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: expect.stringMatching(/refused: 409 RUN_NOT_ACTIVE/),
      }),
    )
    expect((await get<RunView>(server, `/runs/${runId}`)).status).toBe('completed')
  })

  it('terminates a flow call still running MAXQ_ABORT_GRACE_MS after the run ended, as run_ended', async () => {
    const server = await serve(1_000)
    const runId = await trigger(server, 'outlives')
    const call = await endedCall(server, runId)
    expect(call).toMatchObject({ status: 'cancelled', terminationReason: 'run_ended', exitCode: 143 })
    // What it wrote before the SIGTERM is kept.
    expect(call.stdout).toContain('sleeping on')
    expect(await readText(outFile(runId, 'flow-term'))).toBe('term\n')
    const pid = Number(await readText(outFile(runId, 'flow-pid')))
    await waitFor(() => !isAlive(pid), {
      timeoutMs: 15_000,
      message: `flow.sh (pid ${pid}) is still running`,
    })

    const run = await get<RunView>(server, `/runs/${runId}`)
    expect(run).toMatchObject({ status: 'completed', terminationReason: null })
    expect(call.completedAt! - run.completedAt!).toBeGreaterThanOrEqual(1_000)
    const { logs } = await get<{ logs: LogView[] }>(server, `/runs/${runId}/logs?limit=100`)
    expect(logs).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: expect.stringMatching(
          /still running MAXQ_ABORT_GRACE_MS after the run completed, so it was terminated/,
        ),
      }),
    )
  })
})

function readText(file: string): Promise<string | null> {
  return readFile(file, 'utf8').catch(() => null)
}
