// `npm run soak`: many runs under random SIGKILLs for a few minutes, then a consistency check
// (issue 17). Not part of `npm test` and not in CI: it loads the machine for minutes.
//
//   npm run soak -- [--minutes 3] [--only postgres|sqlite] [--database-url URL] [--seed N]
//                   [--in-flight 10] [--lease-ms 30000] [--kill-every 2-6]
//
// PostgreSQL: one `maxq serve` and three `maxq tick --watch` processes on a fresh database (on
// --database-url or MAXQ_TEST_DATABASE_URL, else a throwaway cluster as the test setup starts one).
// SQLite: the local runner (`npm start`'s process). Each phase keeps --in-flight runs of the
// `faults` flow going (fan-outs, chains, two-stage runs; every step `maxRetries: 0`), SIGKILLs a
// random process every 2–6 s (--kill-every, in seconds) and starts it again after up to 1.5 s, then
// stops the kills, lets every run end and checks: every run completed; every field a script posted
// is there; every attempt recorded lost had its worker killed while it ran; no step attempt
// overlapped its re-run (nor ran while an earlier attempt's processes lived); no step or flow call
// ran twice without a worker killed in between; every flow-call record matches its script's exit;
// every re-run started within RERUN_LIMIT_MS of the kill that caused it. Prints a summary; exits 1
// on any problem. By default the phases share the time: two thirds PostgreSQL, a third SQLite.

import { randomBytes } from 'node:crypto'
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import postgres from 'postgres'
import {
  faultEnv,
  isAlive,
  killLeftovers,
  MaxqClient,
  readMarkers,
  type AttemptView,
  runProblems,
  writeFaultFlow,
} from '../faults/fault-flow.js'
import { startPostgresCluster, type PostgresCluster } from '../support/postgres-cluster.js'
import { cleanEnv, freePort, startServer, type RunningServer } from '../support/start-server.js'
import { createTempDir, removeDir } from '../support/temp-flows.js'
import { startTick, type TickProcess } from '../support/tick-process.js'
import { waitFor } from '../support/wait-for.js'
import { randomRun, seededRandom, type Random, type Shape } from './soak-shapes.js'

/** A re-run later than this after the kill that caused it waited for a lease, not for a restart. */
const RERUN_LIMIT_MS = 10_000
const RESTART_AFTER_MS: [number, number] = [0, 1_500]
const DRAIN_TIMEOUT_MS = 120_000
/** Most time from a spawn to the script's start marker, on a loaded machine. */
const SPAWN_SLACK_MS = 3_000

interface Options {
  minutes: number
  phases: ('postgres' | 'sqlite')[]
  databaseUrl: string | undefined
  seed: number
  inFlight: number
  leaseMs: number | undefined
  killEveryMs: [number, number]
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '3' },
      only: { type: 'string' },
      'database-url': { type: 'string' },
      seed: { type: 'string' },
      'in-flight': { type: 'string', default: '10' },
      'lease-ms': { type: 'string' },
      'kill-every': { type: 'string', default: '2-6' },
    },
  })
  const minutes = Number(values.minutes)
  if (!(minutes > 0)) throw new Error('--minutes: a positive number')
  const only = values.only
  if (only !== undefined && only !== 'postgres' && only !== 'sqlite') {
    throw new Error('--only: postgres or sqlite')
  }
  return {
    minutes,
    phases: only === undefined ? ['postgres', 'sqlite'] : [only],
    databaseUrl: values['database-url'] || process.env.MAXQ_TEST_DATABASE_URL || undefined,
    seed: values.seed === undefined ? randomBytes(4).readUInt32LE(0) : Number(values.seed),
    inFlight: Math.max(1, Number(values['in-flight'])),
    leaseMs: values['lease-ms'] === undefined ? undefined : Number(values['lease-ms']),
    killEveryMs: secondsRange(values['kill-every']),
  }
}

function secondsRange(text: string): [number, number] {
  const [low, high] = text.split('-').map(Number)
  if (low === undefined || high === undefined || !(low > 0) || !(high >= low)) {
    throw new Error('--kill-every: LOW-HIGH in seconds, e.g. 2-6')
  }
  return [low * 1000, high * 1000]
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const between = (random: Random, [low, high]: [number, number]) => low + random() * (high - low)
const log = (line: string) =>
  process.stdout.write(`${new Date().toISOString().slice(11, 19)} soak: ${line}\n`)

/** One process the soak may kill: the API, a tick loop, or the local runner. */
interface Victim {
  name: string
  kind: 'api' | 'tick' | 'runner'
  pid: number
  output: () => string
}

interface Kill {
  name: string
  kind: Victim['kind']
  pid: number
  at: number
  restartedAt: number | null
}

interface PhaseSetup {
  name: 'postgres' | 'sqlite'
  databaseEnv: Record<string, string>
  /** Starts every process; answers them. */
  start(env: Record<string, string>, port: number, flowsRoot: string): Promise<Victim[]>
  /** Starts the victim's replacement. */
  restart(victim: Victim, env: Record<string, string>, port: number, flowsRoot: string): Promise<Victim>
  dispose(): Promise<void>
}

interface PhaseResult {
  name: string
  runs: number
  shapes: Record<Shape, number>
  completed: number
  notCompleted: number
  steps: number
  stepAttempts: number
  flowCallAttempts: number
  /** Attempts MaxQ recorded as lost (lease_expired). */
  lost: number
  kills: Record<Victim['kind'], number>
  reruns: number[]
  /** For the re-runs that started after the killed process was back: how long after. */
  rerunsAfterRestart: number[]
  problems: string[]
  seconds: number
}

async function runPhase(setup: PhaseSetup, opts: Options, random: Random, ms: number): Promise<PhaseResult> {
  const started = Date.now()
  const flowsRoot = await createTempDir('maxq-soak-flows-')
  await writeFaultFlow(flowsRoot)
  const outDir = realpathSync(mkdtempSync(path.join(tmpdir(), 'maxq-soak-out-')))
  const port = await freePort()
  const env: Record<string, string> = {
    ...cleanEnv(),
    MAXQ_HOST: '127.0.0.1',
    MAXQ_PORT: String(port),
    MAXQ_FLOWS_ROOT: flowsRoot,
    ...setup.databaseEnv,
    ...faultEnv(outDir),
    // Longer than any flow's sleepAfter: flow calls end on their own terms.
    MAXQ_ABORT_GRACE_MS: '5000',
    ...(opts.leaseMs === undefined ? {} : { MAXQ_LEASE_MS: String(opts.leaseMs) }),
  }
  const client = new MaxqClient(`http://127.0.0.1:${port}/api/v1`)
  let victims = await setup.start(env, port, flowsRoot)
  const kills: Kill[] = []
  const runs = new Map<string, Shape>()
  const open = new Set<string>()
  const shapes: Record<Shape, number> = { 'fan-out': 0, chain: 0, 'two-stage': 0 }
  const stopAt = started + ms
  let killing = true

  const killLoop = async () => {
    while (killing) {
      await sleep(between(random, opts.killEveryMs))
      if (!killing) break
      const victim = victims[Math.floor(random() * victims.length)]!
      const kill: Kill = {
        name: victim.name,
        kind: victim.kind,
        pid: victim.pid,
        at: Date.now(),
        restartedAt: null,
      }
      process.kill(victim.pid, 'SIGKILL')
      kills.push(kill)
      await waitFor(() => !isAlive(victim.pid), { timeoutMs: 10_000 })
      await sleep(between(random, RESTART_AFTER_MS))
      let replacement: Victim | null = null
      for (let attempt = 1; replacement === null; attempt++) {
        try {
          replacement = await setup.restart(victim, env, port, flowsRoot)
        } catch (error) {
          if (attempt >= 3) throw error
          log(`${victim.name} did not start again (${String(error).split('\n')[0]}); trying again`)
        }
      }
      kill.restartedAt = Date.now()
      victims = victims.map((v) => (v === victim ? replacement : v))
    }
  }

  const triggerLoop = async () => {
    let lastReport = Date.now()
    while (Date.now() < stopAt) {
      for (const runId of [...open]) {
        const run = await client.getRun(runId).catch(() => null)
        if (run !== null && (run.status === 'completed' || run.status === 'failed')) open.delete(runId)
      }
      while (open.size < opts.inFlight && Date.now() < stopAt) {
        const { shape, calls } = randomRun(random)
        const runId = await client.trigger(calls).catch(() => null)
        if (runId === null) break // the API is down: next round
        runs.set(runId, shape)
        shapes[shape]++
        open.add(runId)
      }
      if (Date.now() - lastReport > 15_000) {
        lastReport = Date.now()
        log(`${setup.name}: ${runs.size} runs, ${open.size} open, ${kills.length} kills`)
      }
      await sleep(300)
    }
  }

  const killer = killLoop()
  await triggerLoop()
  killing = false
  await killer
  log(`${setup.name}: kills stopped; waiting for ${open.size} open run(s) to end`)
  await waitFor(
    async () => {
      for (const runId of [...open]) {
        const run = await client.getRun(runId).catch(() => null)
        if (run !== null && run.status !== 'pending' && run.status !== 'running') open.delete(runId)
      }
      return open.size === 0
    },
    { timeoutMs: DRAIN_TIMEOUT_MS, intervalMs: 500 },
  ).catch(() => undefined)
  // Flow calls may end a moment after their run (issue 17): let them settle before comparing.
  await waitFor(
    async () => {
      for (const runId of runs.keys()) {
        const calls = await client.flowCalls(runId)
        if (calls.some((call) => call.status === 'running' || call.status === 'queued')) return false
      }
      return true
    },
    { timeoutMs: 30_000, intervalMs: 500 },
  ).catch(() => undefined)

  const result: PhaseResult = {
    name: setup.name,
    runs: runs.size,
    shapes,
    completed: 0,
    notCompleted: 0,
    steps: 0,
    stepAttempts: 0,
    flowCallAttempts: 0,
    lost: 0,
    kills: { api: 0, tick: 0, runner: 0 },
    reruns: [],
    rerunsAfterRestart: [],
    problems: [],
    seconds: 0,
  }
  for (const kill of kills) result.kills[kill.kind]++
  const workerKills = kills.filter((kill) => kill.kind !== 'api')
  for (const runId of runs.keys()) {
    const run = await client.getRun(runId)
    if (run.status === 'completed') result.completed++
    else result.notCompleted++
    result.steps += (await client.getSteps(runId)).length
    result.problems.push(...(await runProblems(client, outDir, runId)))
    const lost = await lostAttempts(client, runId)
    result.lost += lost.length
    result.problems.push(...unexplainedLosses(lost, workerKills, runId))
    const markers = readMarkers(outDir, runId)
    result.stepAttempts += markers.attempts.length
    result.flowCallAttempts += markers.flow.length
    // A second start of a step or a flow call needs a worker killed since the first one, and must
    // come soon after that kill.
    const starts = new Map<string, bigint[]>()
    for (const attempt of markers.attempts) {
      starts.set(`step ${attempt.stepId}`, [...(starts.get(`step ${attempt.stepId}`) ?? []), attempt.startNs])
    }
    for (const attempt of markers.flow) {
      starts.set(`flow call ${attempt.key}`, [
        ...(starts.get(`flow call ${attempt.key}`) ?? []),
        attempt.startNs,
      ])
    }
    for (const [what, times] of starts) {
      for (let i = 1; i < times.length; i++) {
        const before = Number(times[i - 1]! / 1_000_000n)
        const at = Number(times[i]! / 1_000_000n)
        // A script spawned just before its worker died writes its start marker just after.
        const cause = workerKills.filter((kill) => kill.at >= before - SPAWN_SLACK_MS && kill.at <= at).pop()
        if (cause === undefined) {
          result.problems.push(`run ${runId}: ${what} ran again with no worker killed since its last start`)
          continue
        }
        result.reruns.push(at - cause.at)
        if (cause.restartedAt !== null && at >= cause.restartedAt)
          result.rerunsAfterRestart.push(at - cause.restartedAt)
        if (at - cause.at > RERUN_LIMIT_MS) {
          result.problems.push(
            `run ${runId}: ${what} re-ran ${at - cause.at} ms after ${cause.name} was killed ` +
              `(restarted ${cause.restartedAt === null ? 'never' : `${cause.restartedAt - cause.at} ms after`})`,
          )
        }
      }
    }
  }
  if (result.notCompleted > 0 || result.problems.length > 0) {
    log(`${setup.name}: last output of each process:`)
    for (const victim of victims)
      process.stdout.write(`--- ${victim.name} ---\n${victim.output().slice(-2000)}\n`)
  }
  for (const victim of victims) if (isAlive(victim.pid)) process.kill(victim.pid, 'SIGKILL')
  await waitFor(() => victims.every((victim) => !isAlive(victim.pid)), { timeoutMs: 10_000 }).catch(
    () => undefined,
  )
  killLeftovers(outDir)
  await removeDir(flowsRoot)
  rmSync(outDir, { recursive: true, force: true })
  await setup.dispose()
  result.seconds = Math.round((Date.now() - started) / 1000)
  return result
}

// ---- lost attempts ----

interface LostAttempt {
  what: string
  attempt: number
  workerId: string | null
  startedAt: number | null
  endedAt: number
}

/** Every attempt of the run's steps and flow calls that MaxQ recorded as lost. */
async function lostAttempts(client: MaxqClient, runId: string): Promise<LostAttempt[]> {
  const found: LostAttempt[] = []
  const collect = (what: string, attempts: AttemptView[] | undefined) => {
    for (const attempt of attempts ?? []) {
      if (attempt.terminationReason !== 'lease_expired') continue
      found.push({
        what,
        attempt: Number(attempt.attempt),
        workerId: typeof attempt.workerId === 'string' ? attempt.workerId : null,
        startedAt: typeof attempt.startedAt === 'number' ? attempt.startedAt : null,
        endedAt: Number(attempt.endedAt),
      })
    }
  }
  for (const step of await client.getSteps(runId)) {
    collect(`step ${step.id}`, (await client.getStep(runId, step.id)).attempts)
  }
  for (const call of await client.flowCalls(runId)) {
    collect(`flow call ${call.id}`, call.attempts as AttemptView[] | undefined)
  }
  return found
}

/**
 * A lost attempt needs its worker (the pid in its worker id, `host:pid:…`) killed between its
 * claim and its reaping: anything else is a loss MaxQ made up, or one kill counted twice.
 */
function unexplainedLosses(lost: LostAttempt[], kills: Kill[], runId: string): string[] {
  const problems: string[] = []
  for (const attempt of lost) {
    const pid = Number(attempt.workerId?.split(':')[1])
    const from = (attempt.startedAt ?? 0) - SPAWN_SLACK_MS
    if (kills.some((kill) => kill.pid === pid && kill.at >= from && kill.at <= attempt.endedAt)) continue
    problems.push(
      `run ${runId}: ${attempt.what} attempt ${attempt.attempt} recorded lost, but its worker ` +
        `${attempt.workerId ?? '(none)'} was not killed while it ran`,
    )
  }
  return problems
}

// ---- the two deployments ----

function serverVictim(server: RunningServer, kind: 'api' | 'runner'): Victim {
  return { name: kind === 'api' ? 'maxq serve' : 'local runner', kind, pid: server.pid, output: server.logs }
}

function tickVictim(tick: TickProcess, index: number): Victim {
  return { name: `tick ${index}`, kind: 'tick', pid: tick.pid, output: tick.output }
}

async function startApi(env: Record<string, string>, port: number, flowsRoot: string, args: string[]) {
  return startServer({ flowsRoot, databaseEnv: {}, env, port, args, startTimeoutMs: 60_000 })
}

const TICKS = 3

async function postgresPhase(opts: Options): Promise<PhaseSetup> {
  let cluster: PostgresCluster | null = null
  const serverUrl = opts.databaseUrl ?? (cluster = await startPostgresCluster()).url
  const name = `maxq_soak_${randomBytes(6).toString('hex')}`
  const admin = postgres(serverUrl, { max: 1, onnotice: () => undefined })
  await admin.unsafe(`CREATE DATABASE ${name}`)
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  return {
    name: 'postgres',
    databaseEnv: { MAXQ_DATABASE_URL: url.toString() },
    async start(env, port, flowsRoot) {
      const api = await startApi(env, port, flowsRoot, ['bin/maxq.js', 'serve'])
      const ticks = Array.from({ length: TICKS }, (_, i) => tickVictim(startTick(env), i))
      return [serverVictim(api, 'api'), ...ticks]
    },
    async restart(victim, env, port, flowsRoot) {
      if (victim.kind === 'api')
        return serverVictim(await startApi(env, port, flowsRoot, ['bin/maxq.js', 'serve']), 'api')
      return { ...tickVictim(startTick(env), 0), name: victim.name }
    },
    async dispose() {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined)
      await admin.end({ timeout: 5 })
      await cluster?.stop()
    },
  }
}

async function sqlitePhase(): Promise<PhaseSetup> {
  const dir = mkdtempSync(path.join(tmpdir(), 'maxq-soak-sqlite-'))
  const runner = ['dist/wrangler-free-local/main.js']
  return {
    name: 'sqlite',
    databaseEnv: { MAXQ_SQLITE_PATH: path.join(dir, 'maxq.db') },
    async start(env, port, flowsRoot) {
      return [serverVictim(await startApi(env, port, flowsRoot, runner), 'runner')]
    },
    async restart(_victim, env, port, flowsRoot) {
      return serverVictim(await startApi(env, port, flowsRoot, runner), 'runner')
    },
    async dispose() {
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

// ---- the summary ----

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

function summary(result: PhaseResult): string {
  const kills = Object.entries(result.kills)
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${n} ${kind}`)
    .join(', ')
  const shapes = Object.entries(result.shapes)
    .map(([shape, n]) => `${n} ${shape}`)
    .join(', ')
  return [
    `${result.name} (${result.seconds} s): ${result.runs} runs (${shapes}), ${result.completed} completed, ` +
      `${result.notCompleted} not completed`,
    `  ${result.steps} steps, ${result.stepAttempts} step attempts, ${result.flowCallAttempts} flow-call ` +
      `attempts, ${result.lost} recorded lost`,
    `  kills: ${kills || 'none'}`,
    `  re-runs: ${result.reruns.length}; start after the kill that caused it: median ` +
      `${percentile(result.reruns, 50)} ms, max ${percentile(result.reruns, 100)} ms; after its restart ` +
      `(${result.rerunsAfterRestart.length} of them): median ${percentile(result.rerunsAfterRestart, 50)} ms, ` +
      `max ${percentile(result.rerunsAfterRestart, 100)} ms`,
    `  problems: ${result.problems.length}`,
    ...result.problems.slice(0, 30).map((problem) => `    ${problem}`),
    ...(result.problems.length > 30 ? [`    … and ${result.problems.length - 30} more`] : []),
  ].join('\n')
}

async function main(): Promise<void> {
  const opts = options()
  const random = seededRandom(opts.seed)
  const totalMs = opts.minutes * 60_000
  log(`seed ${opts.seed}; ${opts.minutes} min over ${opts.phases.join(' and ')}`)
  const results: PhaseResult[] = []
  for (const phase of opts.phases) {
    const share = opts.phases.length === 1 ? 1 : phase === 'postgres' ? 2 / 3 : 1 / 3
    const setup = phase === 'postgres' ? await postgresPhase(opts) : await sqlitePhase()
    log(`${phase}: ${Math.round((totalMs * share) / 1000)} s of runs under kills`)
    results.push(await runPhase(setup, opts, random, totalMs * share))
  }
  process.stdout.write(`\nsoak summary (seed ${opts.seed})\n${results.map(summary).join('\n')}\n`)
  const problems = results.flatMap((result) => result.problems.map((problem) => `${result.name}: ${problem}`))
  if (problems.length > 0) {
    const file = path.join(tmpdir(), `maxq-soak-problems-${opts.seed}.txt`)
    writeFileSync(file, `${problems.join('\n')}\n`)
    process.stdout.write(`every problem: ${file}\n`)
  }
  const failed = results.some((result) => result.problems.length > 0 || result.notCompleted > 0)
  process.exit(failed ? 1 : 0)
}

main().catch((error: unknown) => {
  process.stderr.write(`soak: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exit(2)
})
