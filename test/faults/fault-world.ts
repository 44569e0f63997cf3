// One fault test's world: a fresh database, the `faults` flow in a temp FLOWS_ROOT, the scripts'
// marker directory, one fixed API port (so an API or local runner restarted after a SIGKILL is at the
// same address its scripts and the tick processes already use), and the processes, each of which
// the test may SIGKILL and start again.

import { existsSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { expect } from 'vitest'
import type { Store } from '../../db/store.js'
import type { TestDatabase } from '../support/dialects.js'
import { cleanEnv, freePort, startServer, type RunningServer } from '../support/start-server.js'
import { createTempDir, removeDir } from '../support/temp-flows.js'
import { startTick, stopTick, type TickProcess } from '../support/tick-process.js'
import { waitFor } from '../support/wait-for.js'
import {
  faultEnv,
  isAlive,
  killLeftovers,
  MaxqClient,
  readMarkers,
  runProblems,
  writeFaultFlow,
  type FlowCalls,
  type FlowCallView,
  type RunView,
  type StepView,
} from './fault-flow.js'

/** `node dist/wrangler-free-local/main.js`: the API and the tick loop in one process. */
export const LOCAL_RUNNER = ['dist/wrangler-free-local/main.js']
/** `maxq serve`: the API alone. */
export const API_ONLY = ['bin/maxq.js', 'serve']

export interface FaultWorldOptions {
  /** More MaxQ settings for every process of the world. */
  env?: Record<string, string>
}

export interface FaultWorld {
  outDir: string
  databaseEnv: Record<string, string>
  /** The test's own store on the world's database, for a test that plays a supervisor itself. */
  store: Store
  /** The environment every MaxQ process of this world starts with. */
  env: Record<string, string>
  client: MaxqClient
  /** Starts the API (or the local runner) on the world's port; the previous one must be gone. */
  startApi(args?: string[]): Promise<RunningServer>
  startTick(env?: Record<string, string>): TickProcess
  /** Stops every tick process still running, cleanly (SIGTERM), so the next test starts with none. */
  stopTicks(): Promise<void>
  /** SIGKILL, and wait until the process is gone. */
  kill(pid: number, exited?: Promise<void>): Promise<void>
  trigger(calls: FlowCalls): Promise<string>
  waitForRun(runId: string, statuses?: string[], timeoutMs?: number): Promise<RunView>
  waitForStep(runId: string, stepId: string, statuses: string[], timeoutMs?: number): Promise<StepView>
  /** Waits until a script of the run wrote `file` into the run's marker directory. */
  waitForMarker(runId: string, file: string, timeoutMs?: number): Promise<void>
  /** Waits until no flow call of the run is queued or running; answers them. */
  waitForFlowCallsSettled(runId: string, timeoutMs?: number): Promise<FlowCallView[]>
  touch(runId: string, file: string): void
  /** Waits for the run to end and fails the test, showing the run, unless it completed. */
  expectCompleted(runId: string): Promise<void>
  /** Fails the test with every consistency problem of the finished run (fault-flow.ts runProblems). */
  expectConsistent(runId: string): Promise<void>
  /** What a failing wait shows: the run, its steps, flow calls, markers and the processes' output. */
  describe(runId: string): Promise<string>
  close(): Promise<void>
}

export async function startFaultWorld(
  database: TestDatabase,
  options: FaultWorldOptions = {},
): Promise<FaultWorld> {
  const flowsRoot = await createTempDir('maxq-faults-flows-')
  await writeFaultFlow(flowsRoot)
  const outDir = realpathSync(mkdtempSync(path.join(tmpdir(), 'maxq-faults-out-')))
  const opened = await database.open()
  const port = await freePort()
  const env: Record<string, string> = {
    ...cleanEnv(),
    MAXQ_HOST: '127.0.0.1',
    MAXQ_PORT: String(port),
    MAXQ_FLOWS_ROOT: flowsRoot,
    ...opened.databaseEnv,
    ...faultEnv(outDir),
    MAXQ_ABORT_GRACE_MS: '500',
    MAXQ_SCHEDULER_INTERVAL_MS: '100',
    MAXQ_MAX_CONCURRENT_STEPS: '20',
    ...options.env,
  }
  const client = new MaxqClient(`http://127.0.0.1:${port}/api/v1`)
  const servers: RunningServer[] = []
  const ticks: TickProcess[] = []

  const describe = async (runId: string): Promise<string> => {
    const safe = async (what: () => Promise<unknown>) => what().catch((error: unknown) => String(error))
    const state = {
      run: await safe(() => client.getRun(runId)),
      steps: await safe(() => client.getSteps(runId)),
      flowCalls: await safe(() => client.flowCalls(runId)),
      logs: await safe(async () => (await client.request('GET', `/runs/${runId}/logs`)).body),
      markers: readMarkers(outDir, runId),
    }
    const text = JSON.stringify(state, (_, value: unknown) =>
      typeof value === 'bigint' ? value.toString() : value,
    )
    const outputs = [
      ...servers.map((server, i) => `--- server ${i} ---\n${server.logs().slice(-3000)}`),
      ...ticks.map((tick, i) => `--- tick ${i} (pid ${tick.pid}) ---\n${tick.output().slice(-3000)}`),
    ]
    return `${text.slice(0, 20_000)}\n${outputs.join('\n')}`
  }

  const world: FaultWorld = {
    outDir,
    databaseEnv: opened.databaseEnv,
    store: opened.store,
    env,
    client,
    async startApi(args = API_ONLY) {
      const server = await startServer({ flowsRoot, databaseEnv: opened.databaseEnv, env, port, args })
      servers.push(server)
      return server
    },
    startTick(extra = {}) {
      const tick = startTick({ ...env, ...extra })
      ticks.push(tick)
      return tick
    },
    async stopTicks() {
      for (const tick of ticks) await stopTick(tick)
    },
    async kill(pid, exited) {
      process.kill(pid, 'SIGKILL')
      if (exited) await exited
      else await waitFor(() => !isAlive(pid), { timeoutMs: 10_000, message: `pid ${pid} survived SIGKILL` })
    },
    trigger: (calls) => client.trigger(calls),
    async waitForRun(runId, statuses = ['completed', 'failed'], timeoutMs = 45_000) {
      try {
        return await waitFor(
          async () => {
            const run = await client.getRun(runId)
            return statuses.includes(run.status) ? run : null
          },
          { timeoutMs, intervalMs: 100, message: `run ${runId} did not reach ${statuses.join('|')}` },
        ).then((run) => run!)
      } catch (error) {
        throw new Error(`${String(error)}\n${await describe(runId)}`)
      }
    },
    async waitForStep(runId, stepId, statuses, timeoutMs = 45_000) {
      try {
        return await waitFor(
          async () => {
            const step = await client.getStep(runId, stepId)
            return statuses.includes(step.status) ? step : null
          },
          { timeoutMs, intervalMs: 50, message: `step ${stepId} did not reach ${statuses.join('|')}` },
        ).then((step) => step!)
      } catch (error) {
        throw new Error(`${String(error)}\n${await describe(runId)}`)
      }
    },
    async waitForMarker(runId, file, timeoutMs = 30_000) {
      const full = path.join(outDir, runId, file)
      try {
        await waitFor(() => existsSync(full), {
          timeoutMs,
          intervalMs: 50,
          message: `no ${file} in ${runId}`,
        })
      } catch (error) {
        throw new Error(`${String(error)}\n${await describe(runId)}`)
      }
    },
    async waitForFlowCallsSettled(runId, timeoutMs = 30_000) {
      try {
        const settled = await waitFor(
          async () => {
            const calls = await client.flowCalls(runId)
            return calls.every((call) => call.status !== 'running' && call.status !== 'queued') ? calls : null
          },
          { timeoutMs, intervalMs: 100, message: `the flow calls of ${runId} never settled` },
        )
        return settled!
      } catch (error) {
        throw new Error(`${String(error)}\n${await describe(runId)}`)
      }
    },
    touch(runId, file) {
      writeFileSync(path.join(outDir, runId, file), '')
    },
    async expectCompleted(runId) {
      const run = await world.waitForRun(runId)
      if (run.status !== 'completed') expect(run.status, await describe(runId)).toBe('completed')
    },
    async expectConsistent(runId) {
      const problems = await runProblems(client, outDir, runId)
      expect(problems, problems.length > 0 ? await describe(runId) : '').toEqual([])
    },
    describe,
    async close() {
      for (const tick of ticks) {
        if (tick.child.exitCode === null && tick.child.signalCode === null) tick.child.kill('SIGKILL')
        await tick.exited
      }
      for (const server of servers) {
        if (isAlive(server.pid)) process.kill(server.pid, 'SIGKILL')
      }
      await waitFor(() => servers.every((server) => !isAlive(server.pid)), { timeoutMs: 10_000 })
      killLeftovers(outDir)
      await opened.dispose()
      await removeDir(flowsRoot)
      rmSync(outDir, { recursive: true, force: true })
    },
  }
  return world
}
