// Starts MaxQ the multi-process way (docs/deployment.md) on this machine: one `maxq serve` API
// process and N `maxq tick --watch` processes, on a fresh throwaway database on the given
// PostgreSQL server. The tick processes reach the API through MAXQ_API_URL, as tick hosts do.
// stop() ends the tick processes first (a clean stop hands running attempts back and ends their
// scripts), then the API, kills whatever any of them left behind, and drops the database; it is
// registered with cleanup.ts, so an error or Ctrl-C stops everything too.

import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { onCleanup } from './cleanup.js'
import { HttpClient } from './http.js'
import {
  cleanEnv,
  createDatabase,
  freePort,
  stopProcessTree,
  waitHealthy,
  type RunningServer,
  type ThrowawayDatabase,
} from './server.js'

export interface DeploymentOptions {
  /** Package root: where bin/maxq.js lives. */
  root: string
  flowsRoot: string
  /** PostgreSQL server to create the throwaway database on. */
  databaseUrl: string
  /** How many `maxq tick --watch` processes. */
  ticks: number
  /** Extra MAXQ_* settings from --env, for every process. */
  env: Record<string, string>
}

export interface RunningDeployment extends RunningServer {
  /** The tick processes' pids, in start order. */
  tickPids: number[]
  /** WARN and ERROR lines the processes logged so far, each prefixed with its process. */
  problems(): string[]
}

/** A tick loop's clean stop gives its scripts MAXQ_ABORT_GRACE_MS (5 s by default) and 2 s more. */
const TICK_STOP_GRACE_MS = 10_000
const API_STOP_GRACE_MS = 5_000
const TICKS_READY_TIMEOUT_MS = 20_000
/** Each tick loop logs this (at info) once it LISTENs: no run is triggered before all are ready. */
const TICK_READY = 'tick loop '
const PROBLEM = / (WARN|ERROR) /
const MAX_PROBLEMS_KEPT = 50
const TAIL_LINES = 20

interface MaxqProcess {
  label: string
  child: ChildProcess
  pid: number
  ready: boolean
  /** Resolves once it has exited and its output is read to the end. */
  closed: Promise<void>
  problems: string[]
  /** The last lines it logged, for a start-up failure message. */
  tail: string[]
}

function startMaxq(
  root: string,
  args: string[],
  env: Record<string, string>,
  dir: string,
  label: string,
): MaxqProcess {
  const log = createWriteStream(join(dir, `${label}.log`))
  const child = spawn(process.execPath, [join(root, 'bin/maxq.js'), ...args], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  if (child.pid === undefined) throw new Error(`bench: could not start \`maxq ${args.join(' ')}\``)
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()))
  const proc: MaxqProcess = { label, child, pid: child.pid, ready: false, closed, problems: [], tail: [] }
  let partial = ''
  const onData = (chunk: Buffer): void => {
    log.write(chunk)
    const lines = (partial + chunk.toString('utf8')).split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) {
      if (line.includes(TICK_READY)) proc.ready = true
      if (PROBLEM.test(line) && proc.problems.length < MAX_PROBLEMS_KEPT) proc.problems.push(line)
      proc.tail.push(line)
      if (proc.tail.length > TAIL_LINES) proc.tail.shift()
    }
  }
  child.stdout?.on('data', onData)
  child.stderr?.on('data', onData)
  child.once('exit', () => log.end())
  return proc
}

/** An error with the process's last log lines (read to the end if it has exited). */
async function failure(message: string, proc: MaxqProcess): Promise<Error> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null)
    await Promise.race([proc.closed, new Promise((resolve) => setTimeout(resolve, 1000))])
  return new Error(`${message}; its last lines:\n${proc.tail.join('\n')}`)
}

export async function startDeployment(opts: DeploymentOptions): Promise<RunningDeployment> {
  const dir = mkdtempSync(join(tmpdir(), 'maxq-bench-ticks-'))
  let database: ThrowawayDatabase | null = null
  let api: MaxqProcess | null = null
  const ticks: MaxqProcess[] = []
  let client: HttpClient | null = null

  let stopped = false
  const stop = async (): Promise<void> => {
    if (stopped) return
    stopped = true
    unregister()
    client?.close()
    await Promise.all(ticks.map((tick) => stopProcessTree(tick.child, TICK_STOP_GRACE_MS)))
    if (api !== null) await stopProcessTree(api.child, API_STOP_GRACE_MS)
    await database?.drop()
    if (process.env.BENCH_KEEP_TEMP !== '1') rmSync(dir, { recursive: true, force: true })
  }
  const unregister = onCleanup(stop)

  try {
    database = await createDatabase(opts.databaseUrl)
    const port = await freePort()
    const origin = `http://127.0.0.1:${port}`
    const env: Record<string, string> = {
      ...cleanEnv(),
      MAXQ_FLOWS_ROOT: opts.flowsRoot,
      MAXQ_DATABASE_URL: database.url,
      MAXQ_PORT: String(port),
      MAXQ_HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ...opts.env,
    }
    // The API first: it runs the migrations (every process does on start-up) before any tick
    // process opens the database.
    const apiProc = startMaxq(opts.root, ['serve'], env, dir, 'api')
    api = apiProc
    client = new HttpClient(origin, 16)
    try {
      await waitHealthy(client, apiProc.child, '`maxq serve`')
    } catch (error) {
      throw await failure(error instanceof Error ? error.message : String(error), apiProc)
    }

    // The tick hosts' environment: the API's address for the scripts and the supervisors' reports.
    // Info level (debug if asked for) so the ready line is logged; a tick loop logs nothing else
    // at info while it runs.
    const tickEnv: Record<string, string> = {
      ...env,
      MAXQ_API_URL: `${origin}/api/v1`,
      LOG_LEVEL: env.LOG_LEVEL === 'debug' ? 'debug' : 'info',
    }
    for (let i = 0; i < opts.ticks; i++)
      ticks.push(startMaxq(opts.root, ['tick', '--watch'], tickEnv, dir, `tick-${i + 1}`))
    const deadline = Date.now() + TICKS_READY_TIMEOUT_MS
    while (!ticks.every((tick) => tick.ready)) {
      const gone = ticks.find((tick) => tick.child.exitCode !== null || tick.child.signalCode !== null)
      if (gone !== undefined)
        throw await failure(`bench: \`maxq tick --watch\` (${gone.label}) exited during start-up`, gone)
      const late = ticks.find((tick) => !tick.ready)
      if (Date.now() > deadline && late !== undefined)
        throw await failure(`bench: \`maxq tick --watch\` (${late.label}) was not ready within 20 s`, late)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }

    const all = [apiProc, ...ticks]
    return {
      pid: apiProc.pid,
      port,
      origin,
      client,
      databaseUrl: database.url,
      tickPids: ticks.map((tick) => tick.pid),
      problems: () => all.flatMap((proc) => proc.problems.map((line) => `${proc.label}: ${line}`)),
      stop,
    }
  } catch (error) {
    await stop()
    throw error
  }
}
