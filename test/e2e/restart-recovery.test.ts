// End to end: a supervisor SIGKILLed while its step runs, then a maxq process started again on the
// same host. The step's script and the background child it started are gone before the step's next
// attempt starts (the attempt itself looks for them), that attempt starts long before the lease
// could have expired (MAXQ_LEASE_MS is 60 s; it must start within 20 s of the restart, which proves
// the lease was not waited for, not how fast anything is), and the run completes with maxRetries 0.
// Four shapes, on both databases: `maxq tick --watch` beside `maxq serve`; the one-shot `maxq tick`
// whose detached supervisor is the one killed, settled by the next `maxq tick` or by a tick loop
// already running on the host; the local runner (API and tick loop in one process).

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isSameLiveProcess, readProcStat } from '../../runtime/proc-stat.js'
import { hostIdentity } from '../../runtime/supervisor-registry.js'
import { testDatabases, type TestDatabase } from '../support/dialects.js'
import { startServer, type RunningServer } from '../support/start-server.js'
import { runCli } from '../support/run-cli.js'
import { writeFlow } from '../support/temp-flows.js'
import { startTick, stopTick, type TickProcess } from '../support/tick-process.js'
import { waitFor } from '../support/wait-for.js'

const FLOW = 'restart'
const LEASE_MS = 60_000
/** Well below LEASE_MS: an attempt started within this was not waiting for the lease. */
const RERUN_WITHIN_MS = 20_000

const FLOW_SCRIPT = `
set -euo pipefail
if [ -z "$MAXQ_COMPLETED_STAGE" ] && [ -z "\${MAXQ_FAILED_STAGE:-}" ]; then
  curl -fsS -X POST "$MAXQ_API/runs/$MAXQ_RUN_ID/steps" -H 'Content-Type: application/json' \\
    -H "Authorization: Bearer $MAXQ_TOKEN" \\
    -d '{"stage": "only", "final": true, "steps": [{"id": "long", "name": "long", "maxRetries": 0}]}' >/dev/null
fi
`

// The first attempt records its supervisor (its parent), then its own pid and its background
// child's, each with its start time (pids are reused, and quickly where pid_max is small), and
// waits for ever. A later attempt records which of those two processes still run (zombies do not
// count: they run nothing, and some containers' init is slow to reap them), then succeeds.
const STEP_SCRIPT = `
set -euo pipefail
out="$E2E_OUT/$MAXQ_RUN_ID"
mkdir -p "$out"
started() { cut -d' ' -f22 "/proc/$1/stat"; }
if [ ! -e "$out/first" ]; then
  sleep 600 &
  echo "$PPID $$:$(started $$) $!:$(started $!)" >"$out/first.tmp" && mv "$out/first.tmp" "$out/first"
  wait
  exit 0
fi
alive=""
for process in $(cut -d' ' -f2- "$out/first"); do
  pid=\${process%%:*}
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
  if [ "$(cut -d' ' -f3 <<<"$stat")" != Z ] && [ "$(cut -d' ' -f22 <<<"$stat")" = "\${process#*:}" ]; then
    alive="$alive $pid"
  fi
done
echo "alive:$alive" >"$out/again.tmp" && mv "$out/again.tmp" "$out/again"
`

/** A process of the first attempt, `<pid>:<start time>`, still running (not a later one with its pid). */
const running = (process: string): boolean => {
  const [pid, startTime] = process.split(':')
  return isSameLiveProcess(Number(pid), startTime ?? '')
}

/** SIGKILL to a supervisor, then wait until it (not a later process with its pid) is gone. */
async function killSupervisor(pid: number): Promise<void> {
  const startTime = readProcStat(pid)?.startTime ?? ''
  process.kill(pid, 'SIGKILL')
  await waitFor(() => !isSameLiveProcess(pid, startTime), { message: `supervisor ${pid} did not die` })
}

interface World {
  flowsRoot: string
  outDir: string
  runtimeDir: string
  databaseEnv: Record<string, string>
  dispose: () => Promise<void>
}

async function openWorld(database: TestDatabase): Promise<World> {
  const base = mkdtempSync(path.join(tmpdir(), 'maxq-restart-'))
  const flowsRoot = path.join(base, 'flows')
  await writeFlow(flowsRoot, FLOW, { flow: FLOW_SCRIPT, steps: { long: STEP_SCRIPT } })
  const opened = await database.open()
  return {
    flowsRoot,
    outDir: path.join(base, 'out'),
    runtimeDir: path.join(base, 'runtime'),
    databaseEnv: opened.databaseEnv,
    dispose: async () => {
      await opened.dispose()
      rmSync(base, { recursive: true, force: true })
    },
  }
}

function worldEnv(world: World): Record<string, string> {
  return {
    E2E_OUT: world.outDir,
    MAXQ_PASSTHROUGH_ENV: 'E2E_OUT',
    MAXQ_LEASE_MS: String(LEASE_MS),
    MAXQ_RUNTIME_DIR: world.runtimeDir,
    MAXQ_ABORT_GRACE_MS: '500',
  }
}

async function trigger(server: RunningServer): Promise<string> {
  const res = await fetch(`${server.apiBase}/flows/${FLOW}/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  })
  expect(res.status).toBe(201)
  return ((await res.json()) as { id: string }).id
}

async function runStatus(apiBase: string, runId: string): Promise<string> {
  const res = await fetch(`${apiBase}/runs/${runId}`)
  return ((await res.json()) as { status: string }).status
}

function readOut(world: World, runId: string, name: string): string | null {
  const file = path.join(world.outDir, runId, name)
  return existsSync(file) ? readFileSync(file, 'utf8') : null
}

/** The first attempt's supervisor pid, and its script and background child as `<pid>:<start>`. */
async function firstAttempt(
  world: World,
  runId: string,
  describe: () => string,
): Promise<[number, string, string]> {
  const text = await waitFor(() => readOut(world, runId, 'first'), {
    timeoutMs: 60_000,
    message: `the first attempt did not start\n${describe()}`,
  })
  const [supervisor, shell, background] = (text ?? '').trim().split(' ')
  if (supervisor === undefined || shell === undefined || background === undefined) {
    throw new Error(`unexpected: ${text}`)
  }
  expect([running(shell), running(background)]).toEqual([true, true])
  return [Number(supervisor), shell, background]
}

/** The next attempt's report; it must come within RERUN_WITHIN_MS of `since`. */
async function nextAttempt(world: World, runId: string, describe: () => string): Promise<string> {
  const report = await waitFor(() => readOut(world, runId, 'again'), {
    timeoutMs: RERUN_WITHIN_MS,
    message: `no new attempt within ${RERUN_WITHIN_MS} ms of the restart (lease ${LEASE_MS} ms)\n${describe()}`,
  })
  return report ?? ''
}

describe.skipIf(hostIdentity() === null).each(testDatabases)(
  'a restarted maxq process on $name',
  (database) => {
    let world: World
    const cleanups: Array<() => Promise<void>> = []

    beforeEach(async () => {
      world = await openWorld(database)
    })
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined)
      await world.dispose()
    })

    it('tick --watch SIGKILLed: its orphans die before the step runs again, within seconds of the restart', async () => {
      const api = await startServer({
        flowsRoot: world.flowsRoot,
        databaseEnv: world.databaseEnv,
        env: worldEnv(world),
        args: ['bin/maxq.js', 'serve'],
      })
      cleanups.push(api.stop)
      let ticks: TickProcess[] = [startTick(api.env)]
      cleanups.push(async () => {
        for (const tick of ticks) await stopTick(tick)
      })
      const describe = () => ticks.map((tick) => tick.output()).join('\n---\n') + api.logs()
      const runId = await trigger(api)
      const [supervisor, shell, background] = await firstAttempt(world, runId, describe)
      expect(supervisor).toBe(ticks[0]?.pid)

      const killed = ticks[0]
      killed?.child.kill('SIGKILL')
      await killed?.exited
      // Orphaned, still running: what the restart has to deal with.
      expect([running(shell), running(background)]).toEqual([true, true])
      ticks = [startTick(api.env)]

      expect(await nextAttempt(world, runId, describe)).toBe('alive:\n')
      expect([running(shell), running(background)]).toEqual([false, false])
      await waitFor(async () => (await runStatus(api.apiBase, runId)) === 'completed', {
        timeoutMs: 30_000,
        message: `run ${runId} did not complete\n${describe()}`,
      })
    })

    it('a one-shot tick’s detached supervisor SIGKILLed: the next `maxq tick` stops its orphans and runs the step again', async () => {
      const api = await startServer({
        flowsRoot: world.flowsRoot,
        databaseEnv: world.databaseEnv,
        env: worldEnv(world),
        args: ['bin/maxq.js', 'serve'],
      })
      cleanups.push(api.stop)
      const outputs: string[] = []
      const tick = async (): Promise<void> => {
        const result = await runCli(api.env, ['tick'])
        outputs.push(result.output)
        expect(result.code, result.output).toBe(0)
      }
      const describe = () => outputs.slice(-5).join('\n---\n') + api.logs()
      const runId = await trigger(api)
      await waitFor(
        async () => {
          await tick()
          return readOut(world, runId, 'first') !== null
        },
        { timeoutMs: 60_000, intervalMs: 200, message: `the first attempt did not start\n${describe()}` },
      )
      const [supervisor, shell, background] = await firstAttempt(world, runId, describe)
      await killSupervisor(supervisor)
      expect([running(shell), running(background)]).toEqual([true, true])

      await tick()
      expect(await nextAttempt(world, runId, describe)).toBe('alive:\n')
      expect([running(shell), running(background)]).toEqual([false, false])
      await waitFor(
        async () => {
          await tick()
          return (await runStatus(api.apiBase, runId)) === 'completed'
        },
        { timeoutMs: 60_000, intervalMs: 200, message: `run ${runId} did not complete\n${describe()}` },
      )
    })

    it('a tick --watch already running on the host settles a one-shot tick’s dead supervisor on its own', async () => {
      const api = await startServer({
        flowsRoot: world.flowsRoot,
        databaseEnv: world.databaseEnv,
        env: worldEnv(world),
        args: ['bin/maxq.js', 'serve'],
      })
      cleanups.push(api.stop)
      const outputs: string[] = []
      const runId = await trigger(api)
      await waitFor(
        async () => {
          const result = await runCli(api.env, ['tick'])
          outputs.push(result.output)
          return readOut(world, runId, 'first') !== null
        },
        {
          timeoutMs: 60_000,
          intervalMs: 200,
          message: `the first attempt did not start\n${outputs.join('\n')}`,
        },
      )
      const [supervisor, shell, background] = await firstAttempt(world, runId, () => outputs.join('\n'))
      // Started while the supervisor lives: its start-up look finds nothing to settle.
      const watcher = startTick(api.env)
      cleanups.push(() => stopTick(watcher))
      const describe = () => `${watcher.output()}\n---\n${api.logs()}`
      await waitFor(() => /tick loop/.test(watcher.output()), { message: `no tick loop\n${describe()}` })
      await killSupervisor(supervisor)

      expect(await nextAttempt(world, runId, describe), describe()).toBe('alive:\n')
      expect([running(shell), running(background)]).toEqual([false, false])
      await waitFor(async () => (await runStatus(api.apiBase, runId)) === 'completed', {
        timeoutMs: 30_000,
        message: `run ${runId} did not complete\n${describe()}`,
      })
    })

    it('the local runner SIGKILLed: restarted, it stops its predecessor’s orphans and runs the step again', async () => {
      const start = (port?: number) =>
        startServer({
          flowsRoot: world.flowsRoot,
          databaseEnv: world.databaseEnv,
          env: worldEnv(world),
          ...(port === undefined ? {} : { port }),
        })
      const first = await start()
      cleanups.push(first.stop)
      const runId = await trigger(first)
      const [supervisor, shell, background] = await firstAttempt(world, runId, first.logs)
      await killSupervisor(supervisor)
      expect([running(shell), running(background)]).toEqual([true, true])

      const second = await start(Number(new URL(first.baseUrl).port))
      cleanups.push(second.stop)
      expect(await nextAttempt(world, runId, second.logs)).toBe('alive:\n')
      expect([running(shell), running(background)]).toEqual([false, false])
      await waitFor(async () => (await runStatus(second.apiBase, runId)) === 'completed', {
        timeoutMs: 30_000,
        message: `run ${runId} did not complete\n${second.logs()}`,
      })
    })
  },
)
