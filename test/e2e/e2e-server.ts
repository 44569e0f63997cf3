// What every e2e file shares: a real server per database over test/fixtures/flows, a scratch
// directory the fixture scripts write to ($E2E_OUT/<runId>/…), an HTTP client, and readers for
// what the scripts recorded. The `scripted` fixture flow does what its run input says (see
// test/fixtures/flows/scripted/flow.sh), so every test builds its own scenario as data.

import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { expect } from 'vitest'
import type { TestDatabase } from '../support/dialects.js'
import { encodeBody, readAnswer, type ApiResponse } from '../support/handler-app.js'
import {
  PACKAGE_ROOT,
  startServer,
  type RunningServer,
  type StartServerOptions,
} from '../support/start-server.js'
import { waitFor, type WaitForOptions } from '../support/wait-for.js'

export const FLOWS_ROOT = path.join(PACKAGE_ROOT, 'test', 'fixtures', 'flows')
export const FLOW = 'scripted'

// ---- API shapes (only what the tests read) ----

export interface StageView {
  name: string
  seq: number
  final: boolean
  status: string
}

export interface RunView {
  id: string
  flowName: string
  status: string
  input: unknown
  error: unknown
  terminationReason: string | null
  stages: StageView[]
}

export interface StepView {
  id: string
  name: string
  stage: string
  status: string
  dependsOn: string[]
  maxRetries: number
  retryCount: number
  attempt: number
  exitCode: number | null
  stdout: string | null
  stderr: string | null
  fields: Record<string, unknown>
  error: unknown
  terminationReason: string | null
}

export type { ApiResponse }

// ---- scenario builders ----

export interface StepDef {
  id: string
  name: string
  dependsOn?: string[]
  maxRetries?: number
  env?: Record<string, string>
  timeoutSeconds?: number
}

export interface StageBody {
  stage: string
  final: boolean
  steps: StepDef[]
}

/** What the scripted flow does on one call: post these stage bodies, then exit with `exit`. */
export interface FlowCall {
  post?: StageBody[]
  /** Wait on a `sleep 300` (pids in flow-pid-shell and flow-pid-sleep) before exiting. */
  hold?: boolean
  exit?: number
}

/** Keys: `start`, `completed:<stage>`, `failed:<stage>`. */
export type FlowCalls = Record<string, FlowCall>

export function probe(id: string, options: Omit<StepDef, 'id' | 'name'> & { name?: string } = {}): StepDef {
  return { id, name: 'probe', maxRetries: 0, ...options }
}

export function stage(name: string, final: boolean, steps: StepDef[]): StageBody {
  return { stage: name, final, steps }
}

// ---- what the scripts recorded ----

export interface ScriptRecord {
  cwd: string
  stdin: string
  stdinRc: number
  env: Record<string, string>
}

export interface FlowCallRecord extends ScriptRecord {
  key: string
  failedStageSet: boolean
}

export interface Event {
  at: bigint
  kind: string
  id: string
}

// ---- the server ----

export interface E2eServer {
  server: RunningServer
  /** The directory the fixture scripts write to ($E2E_OUT). */
  outDir: string
  request(
    method: string,
    urlPath: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ApiResponse>
  /** Like request, but expects `status` and answers the body. */
  expectJson<T>(method: string, urlPath: string, status: number, body?: unknown): Promise<T>
  /** Triggers a run of the scripted flow; answers its id. */
  trigger(calls: FlowCalls): Promise<string>
  getRun(runId: string): Promise<RunView>
  getSteps(runId: string): Promise<StepView[]>
  getStep(runId: string, stepId: string): Promise<StepView>
  /** Waits until the run's status is one of `statuses`; the error shows the run and its steps. */
  waitForRun(runId: string, statuses: string[], timeoutMs?: number): Promise<RunView>
  waitForStep(runId: string, stepId: string, statuses: string[], timeoutMs?: number): Promise<StepView>
  /** A file the run's scripts wrote, or null. */
  readOut(runId: string, file: string): string | null
  outExists(runId: string, file: string): boolean
  /** Waits until the run's scripts have written `file`. */
  waitForOut(runId: string, file: string, timeoutMs?: number): Promise<string>
  writeOut(runId: string, file: string, text: string): void
  flowCalls(runId: string): FlowCallRecord[]
  stepRecords(runId: string, stepId: string): ScriptRecord[]
  events(runId: string): Event[]
  close(): Promise<void>
}

export interface E2eServerOptions {
  env?: Record<string, string>
  port?: number
  args?: StartServerOptions['args']
}

export async function startE2eServer(
  database: TestDatabase,
  options: E2eServerOptions = {},
): Promise<E2eServer> {
  const outDir = realpathSync(mkdtempSync(path.join(tmpdir(), 'maxq-e2e-out-')))
  const opened = await database.open()
  // The server migrates and uses the database itself; the test needs only the environment.
  let server: RunningServer
  try {
    server = await startServer({
      flowsRoot: FLOWS_ROOT,
      databaseEnv: opened.databaseEnv,
      env: {
        E2E_OUT: outDir,
        // Scripts get a minimal environment; the fixtures write where E2E_OUT says.
        MAXQ_PASSTHROUGH_ENV: 'E2E_OUT',
        MAXQ_ABORT_GRACE_MS: '500',
        MAXQ_MAX_CONCURRENT_STEPS: '50',
        ...options.env,
      },
      ...(options.args ? { args: options.args } : {}),
      ...(options.port !== undefined ? { port: options.port } : {}),
    })
  } catch (error) {
    await opened.dispose()
    rmSync(outDir, { recursive: true, force: true })
    throw error
  }

  const apiToken = options.env?.MAXQ_API_TOKEN
  const request = async (
    method: string,
    urlPath: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ApiResponse> => {
    const init: RequestInit = { method }
    if (body !== undefined) {
      // A byte array goes out with no Content-Type at all (a string would get text/plain).
      init.body = encodeBody(body)
      init.headers = headers ?? { 'Content-Type': 'application/json' }
    } else if (headers) {
      init.headers = headers
    }
    // With MAXQ_API_TOKEN set, requests carry it unless the test sets `authorization` itself
    // ('' sends none).
    const sent = new Headers(init.headers)
    if (apiToken !== undefined && !sent.has('authorization')) sent.set('authorization', `Bearer ${apiToken}`)
    if (sent.get('authorization') === '') sent.delete('authorization')
    init.headers = sent
    const res = await fetch(`${server.apiBase}${urlPath}`, init)
    return readAnswer(res)
  }

  const expectJson = async <T>(
    method: string,
    urlPath: string,
    status: number,
    body?: unknown,
  ): Promise<T> => {
    const res = await request(method, urlPath, body)
    expect({ method, urlPath, status: res.status, body: res.body }).toMatchObject({ status })
    return res.body as T
  }

  const getRun = (runId: string) => expectJson<RunView>('GET', `/runs/${runId}`, 200)
  const getSteps = async (runId: string) =>
    (await expectJson<{ steps: StepView[] }>('GET', `/runs/${runId}/steps`, 200)).steps
  const getStep = (runId: string, stepId: string) =>
    expectJson<StepView>('GET', `/runs/${runId}/steps/${stepId}`, 200)

  const describeRun = async (runId: string): Promise<string> => {
    const run = await request('GET', `/runs/${runId}`)
    const steps = await request('GET', `/runs/${runId}/steps`)
    const logs = await request('GET', `/runs/${runId}/logs`)
    const dir = path.join(outDir, runId)
    const files = existsSync(dir)
      ? Object.fromEntries(
          readdirSync(dir).map((name) => [name, readFileSync(path.join(dir, name), 'utf8').slice(0, 2000)]),
        )
      : {}
    return JSON.stringify({ run: run.body, steps: steps.body, logs: logs.body, files }, null, 1).slice(
      0,
      30_000,
    )
  }

  const outFile = (runId: string, file: string) => path.join(outDir, runId, file)
  const readOut = (runId: string, file: string): string | null => {
    const full = outFile(runId, file)
    return existsSync(full) ? readFileSync(full, 'utf8') : null
  }
  const jsonLines = <T>(text: string | null): T[] =>
    (text ?? '')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as T)

  const e2e: E2eServer = {
    server,
    outDir,
    request,
    expectJson,
    async trigger(calls) {
      const run = await expectJson<RunView>('POST', `/flows/${FLOW}/runs`, 201, { input: { calls } })
      return run.id
    },
    getRun,
    getSteps,
    getStep,
    async waitForRun(runId, statuses, timeoutMs = 30_000) {
      try {
        return await until(
          async () => {
            const run = await getRun(runId)
            return statuses.includes(run.status) ? run : null
          },
          { timeoutMs, intervalMs: 50, message: `run ${runId} did not reach ${statuses.join('|')}` },
        )
      } catch (error) {
        throw new Error(`${String(error)}\n${await describeRun(runId)}`)
      }
    },
    async waitForStep(runId, stepId, statuses, timeoutMs = 30_000) {
      try {
        return await until(
          async () => {
            const step = await getStep(runId, stepId)
            return statuses.includes(step.status) ? step : null
          },
          { timeoutMs, intervalMs: 50, message: `step ${stepId} did not reach ${statuses.join('|')}` },
        )
      } catch (error) {
        throw new Error(`${String(error)}\n${await describeRun(runId)}`)
      }
    },
    readOut,
    outExists: (runId, file) => existsSync(outFile(runId, file)),
    async waitForOut(runId, file, timeoutMs = 30_000) {
      try {
        // An empty file counts: wrap the text so that '' is truthy for waitFor.
        const found = await until(
          () => {
            const text = readOut(runId, file)
            return text === null ? null : { text }
          },
          {
            timeoutMs,
            intervalMs: 50,
            message: `run ${runId} never wrote ${file}`,
          },
        )
        return found.text
      } catch (error) {
        throw new Error(`${String(error)}\n${await describeRun(runId)}`)
      }
    },
    writeOut(runId, file, text) {
      writeFileSync(outFile(runId, file), text)
    },
    flowCalls: (runId) => jsonLines<FlowCallRecord>(readOut(runId, 'flow-calls.jsonl')),
    stepRecords: (runId, stepId) => jsonLines<ScriptRecord>(readOut(runId, `step-${stepId}.jsonl`)),
    events(runId) {
      return (readOut(runId, 'events') ?? '')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => {
          const [at = '0', kind = '', id = ''] = line.split(' ')
          return { at: BigInt(at), kind, id }
        })
    },
    async close() {
      await server.stop()
      await opened.dispose()
      rmSync(outDir, { recursive: true, force: true })
    },
  }
  return e2e
}

/** waitFor for a condition that answers its value or null: resolves with the value. */
export async function until<T>(fn: () => Promise<T | null> | T | null, options: WaitForOptions): Promise<T> {
  const value = await waitFor(fn, options)
  if (value === null) throw new Error('unreachable: waitFor resolved with null')
  return value
}

/** True while `pid` names a live process (a zombie, already dead but not reaped, counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // "pid (comm) S …": the state follows the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

/** Asserts the one error shape: exactly `{error, code, details}`, with the given status and code. */
export function expectApiError(res: ApiResponse, status: number, code: string): void {
  expect({ status: res.status, body: res.body }).toMatchObject({ status, body: { code } })
  const body = res.body as Record<string, unknown>
  expect(Object.keys(body).sort()).toEqual(['code', 'details', 'error'])
  expect(typeof body.error).toBe('string')
  expect(String(body.error)).not.toMatch(/\n\s+at /)
  expect(res.headers.get('content-type') ?? '').toMatch(/application\/json/)
}
