// Scale-out: the production shape with more than one scheduler. One API process (`maxq serve`) and
// four tick processes (`maxq tick --watch`), all separate OS processes, share one PostgreSQL. A run
// with a 1,000-step fan-out, a run with a 50-step dependency chain and 20 small two-stage runs go
// through them at once. Every step appends "<step id> <run id> <tick pid>" to one file
// (test/fixtures/scale-flows/scale/steps/record/step.sh), so the test can check that each step ran
// exactly once and that the work really spread over the four tick processes.
//
// PostgreSQL only: many tick processes against one database is the PostgreSQL deployment
// (FOR UPDATE SKIP LOCKED claims, LISTEN/NOTIFY wake-ups). SQLite has one writer, so its deployment
// is one process (`npm start`), which the e2e suite covers.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresDatabase } from '../support/dialects.js'
import { PACKAGE_ROOT, startServer, type RunningServer } from '../support/start-server.js'
import { startTick, stopTick, type TickProcess } from '../support/tick-process.js'
import { waitFor } from '../support/wait-for.js'

const FLOWS_ROOT = path.join(PACKAGE_ROOT, 'test', 'fixtures', 'scale-flows')
const TICK_PROCESSES = 4
const FANOUT_SIZE = 1000
const CHAIN_SIZE = 50
const SMALL_RUNS = 20
const SMALL_STEP_IDS = ['first-0', 'first-1', 'first-2', 'second-0', 'second-1']
/** Each tick process must have run at least this share of the fan-out's steps. */
const MIN_FANOUT_SHARE = 0.05
/** Generous: the whole workload takes well under a minute on 2 cores; this only bounds a hang. */
const RUNS_END_TIMEOUT_MS = 200_000

interface RunView {
  id: string
  status: string
  createdAt: number
  completedAt: number | null
}

interface StepView {
  id: string
  status: string
  attempt: number
  workerId: string | null
}

describe('scale-out on PostgreSQL: one `maxq serve`, four `maxq tick --watch`', () => {
  let database: { databaseUrl: string; drop(): Promise<void> } | undefined
  let server: RunningServer | undefined
  const ticks: TickProcess[] = []
  let outDir = ''
  let outFile = ''

  async function api<T>(apiPath: string, init?: RequestInit): Promise<T> {
    const res = await fetch(`${server!.apiBase}${apiPath}`, {
      ...init,
      headers: { 'content-type': 'application/json' },
    })
    const body: unknown = await res.json()
    if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${apiPath}: ${res.status} ${JSON.stringify(body)}`)
    return body as T
  }

  /** The last lines every process wrote, for a failure message. */
  function processLogs(): string {
    const tail = (text: string) => text.split('\n').slice(-30).join('\n')
    return [
      `--- serve ---\n${tail(server?.logs() ?? '')}`,
      ...ticks.map((tick, i) => `--- tick ${i + 1} (pid ${tick.pid}) ---\n${tail(tick.output())}`),
    ].join('\n')
  }

  beforeAll(async () => {
    outDir = mkdtempSync(path.join(tmpdir(), 'maxq-scale-'))
    outFile = path.join(outDir, 'steps.log')
    writeFileSync(outFile, '')
    database = await createPostgresDatabase()
    server = await startServer({
      flowsRoot: FLOWS_ROOT,
      databaseEnv: { MAXQ_DATABASE_URL: database.databaseUrl },
      args: ['bin/maxq.js', 'serve'],
    })
    // The tick hosts' environment: the same database and flows root, the API's address for the
    // scripts and the supervisors' reports, and where the step scripts append. Everything else
    // (batch size 10, 10 concurrent steps per process, interval 200 ms) is the default.
    const tickEnv = {
      ...server.env,
      MAXQ_API_URL: server.apiBase,
      SCALE_OUT: outFile,
      MAXQ_PASSTHROUGH_ENV: 'SCALE_OUT',
    }
    for (let i = 0; i < TICK_PROCESSES; i++) ticks.push(startTick(tickEnv))
    // Each loop prints this line once it LISTENs, so no run is triggered before all four are ready.
    await waitFor(() => ticks.every((tick) => tick.output().includes('tick loop ')), {
      timeoutMs: 30_000,
      intervalMs: 50,
    }).catch((error: unknown) => {
      throw new Error(`the tick processes did not start: ${String(error)}\n${processLogs()}`)
    })
  })

  afterAll(async () => {
    await Promise.all(ticks.map(stopTick))
    await server?.stop()
    await database?.drop()
    if (outDir !== '') rmSync(outDir, { recursive: true, force: true })
  })

  it('runs every step exactly once, completes every run and spreads the work over all four ticks', async () => {
    const trigger = (input: Record<string, unknown>) =>
      api<RunView>('/flows/scale/runs', { method: 'POST', body: JSON.stringify({ input }) })
    const [fanout, chain, ...small] = await Promise.all([
      trigger({ shape: 'fanout', size: FANOUT_SIZE }),
      trigger({ shape: 'chain', size: CHAIN_SIZE }),
      ...Array.from({ length: SMALL_RUNS }, () => trigger({ shape: 'small' })),
    ])
    const runs = [fanout!, chain!, ...small]

    let ended: RunView[] = []
    await waitFor(
      async () => {
        const list = await api<{ runs: RunView[] }>('/runs?flowName=scale&limit=100')
        ended = list.runs.filter((run) => run.status === 'completed' || run.status === 'failed')
        return ended.length === runs.length
      },
      { timeoutMs: RUNS_END_TIMEOUT_MS, intervalMs: 250 },
    ).catch((error: unknown) => {
      throw new Error(`${ended.length} of ${runs.length} runs ended: ${String(error)}\n${processLogs()}`)
    })
    expect(
      ended.filter((run) => run.status !== 'completed').map((run) => [run.id, run.status]),
      processLogs(),
    ).toEqual([])

    // No process logged an error or a warning (a failed tick, a 500, a reaped lease). A delivery
    // retry of an exit report is allowed: that is the supervisor riding out a slow API.
    const logged = [server!.logs(), ...ticks.map((tick) => tick.output())].join('\n').split('\n')
    expect(logged.filter((line) => / (ERROR|WARN) /.test(line))).toEqual([])

    // Every expected (run, step) pair appears exactly once in the file, and nothing else does.
    const lines = readFileSync(outFile, 'utf8').split('\n').filter(Boolean)
    const records = lines.map((line) => {
      const [stepId, runId, ppid] = line.split(' ')
      return { stepId: stepId!, runId: runId!, ppid: Number(ppid) }
    })
    const expected = new Map<string, string[]>([
      [fanout!.id, Array.from({ length: FANOUT_SIZE }, (_, i) => `fan-${i}`)],
      [chain!.id, Array.from({ length: CHAIN_SIZE }, (_, i) => `link-${i}`)],
      ...small.map((run): [string, string[]] => [run.id, SMALL_STEP_IDS]),
    ])
    const seen = new Map<string, number>()
    for (const { runId, stepId } of records)
      seen.set(`${runId} ${stepId}`, (seen.get(`${runId} ${stepId}`) ?? 0) + 1)
    const expectedKeys = [...expected].flatMap(([runId, stepIds]) => stepIds.map((id) => `${runId} ${id}`))
    const expectedSet = new Set(expectedKeys)
    expect(
      expectedKeys.filter((key) => !seen.has(key)),
      'steps that never ran',
    ).toEqual([])
    expect(
      [...seen].filter(([, n]) => n > 1),
      'steps that ran more than once',
    ).toEqual([])
    expect(
      [...seen.keys()].filter((key) => !expectedSet.has(key)),
      'lines for no expected step',
    ).toEqual([])
    expect(records).toHaveLength(FANOUT_SIZE + CHAIN_SIZE + SMALL_RUNS * SMALL_STEP_IDS.length)

    // The chain ran in dependency order: link-i finished (so appended) before link-(i+1) started.
    const chainOrder = records.filter((r) => r.runId === chain!.id).map((r) => r.stepId)
    expect(chainOrder).toEqual(expected.get(chain!.id))

    // Every step was started by one of the four tick processes, and the database agrees: the step's
    // worker id (hostname:pid:random) names the same process, on its first and only attempt.
    const tickPids = ticks.map((tick) => tick.pid)
    expect(records.filter((r) => !tickPids.includes(r.ppid))).toEqual([])
    const ppidOf = new Map(records.map((r) => [`${r.runId} ${r.stepId}`, r.ppid]))
    for (const run of [fanout!, chain!, small[0]!]) {
      // One page holds a whole run here: the fan-out is 1000 steps, the largest page.
      const { steps } = await api<{ steps: StepView[] }>(`/runs/${run.id}/steps?limit=1000`)
      const mismatched = steps.filter((step) => {
        const workerPid = Number(step.workerId?.split(':').at(-2))
        return (
          step.status !== 'completed' ||
          step.attempt !== 1 ||
          workerPid !== ppidOf.get(`${run.id} ${step.id}`)
        )
      })
      expect(mismatched.map((s) => [s.id, s.status, s.attempt, s.workerId])).toEqual([])
    }

    // How the work spread.
    const smallIds = new Set(small.map((run) => run.id))
    const rows = ticks.map((tick, i) => {
      const mine = records.filter((r) => r.ppid === tick.pid)
      return {
        tick: i + 1,
        pid: tick.pid,
        fanout: mine.filter((r) => r.runId === fanout!.id).length,
        chain: mine.filter((r) => r.runId === chain!.id).length,
        small: mine.filter((r) => smallIds.has(r.runId)).length,
        total: mine.length,
      }
    })
    const header = 'tick  pid       fan-out  (share)  chain  small  total'
    const table = rows.map(
      (row) =>
        `${String(row.tick).padEnd(6)}${String(row.pid).padEnd(10)}${String(row.fanout).padStart(7)}  ` +
        `${`(${((100 * row.fanout) / FANOUT_SIZE).toFixed(1)}%)`.padStart(7)}  ` +
        `${String(row.chain).padStart(5)}  ${String(row.small).padStart(5)}  ${String(row.total).padStart(5)}`,
    )
    const byId = new Map(ended.map((run) => [run.id, run]))
    const seconds = (ids: string[]) => {
      const picked = ids.map((id) => byId.get(id)!)
      const from = Math.min(...picked.map((run) => run.createdAt))
      const to = Math.max(...picked.map((run) => run.completedAt ?? run.createdAt))
      return `${((to - from) / 1000).toFixed(1)} s`
    }
    const took =
      `trigger → completed (server clock): fan-out ${seconds([fanout!.id])}, chain ${seconds([chain!.id])}, ` +
      `${SMALL_RUNS} small runs ${seconds([...smallIds])}, all ${seconds(runs.map((run) => run.id))}`
    console.log(`scale-out: steps per tick process\n${header}\n${table.join('\n')}\n${took}`)
    for (const row of rows) {
      expect(row.fanout, `tick ${row.tick} ran too little of the fan-out`).toBeGreaterThanOrEqual(
        MIN_FANOUT_SHARE * FANOUT_SIZE,
      )
    }
  }, 260_000)
})
