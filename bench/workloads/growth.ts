// growth: chain and fanout, and the claim query's own time, with history in the database:
// finished runs (completed runs, stages and steps) and blocked steps of other open runs (pending,
// unmet_deps > 0, available_at NULL). Seeded by direct SQL into a SQLite file migrated by MaxQ's own
// migrations, before the server starts. The claim is timed by calling db/queries/claim-ready-steps
// on that file, with 10 claimable steps inserted in a transaction that is rolled back. Beside them:
// trigger → first step, GET /runs/{run} and GET /runs with every sort and filter, each against an
// empty database (the two files, and the two servers, take the samples in turn), and the file's
// size per seeded step.

import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { SQL } from 'drizzle-orm'
import { renderQuery } from '../../db/fixed-query.js'
import { openStore } from '../../db/open-store.js'
import { claimReadySteps } from '../../db/queries/claim-ready-steps.js'
import { openSqlite } from '../../db/sqlite/open-sqlite.js'
import { renderer } from '../../db/sqlite/statements.js'
import type { BenchContext, Metric } from '../support/context.js'
import { HELLO_FLOW } from '../support/flows.js'
import { runFlow } from '../support/runs.js'
import type { RunningServer } from '../support/server.js'
import { median } from '../support/stats.js'
import { chainSamples } from './chain.js'
import { fanoutSamples } from './fanout.js'

const CLAIM_SAMPLES = 300
/** The claim's samples are taken in this many turns per file, alternating between the files. */
const CLAIM_TURNS = 10
const BLOCKED_STEPS_PER_RUN = 100
/**
 * Requests per API figure and database. The two servers run side by side and take the requests in
 * turn (empty, seeded, empty, …), so that the machine's drift over the minutes of a run weighs on
 * both alike: the figures are a few tenths of a millisecond apart, less than that drift.
 */
const API_SAMPLES = 300
/**
 * Every sort and filter of GET /runs, on a page of 20. `FLOW` is the flow with the most runs: the
 * 100,000 seeded ones, and on the empty database the hello flow, run PAGE_RUNS times first, so
 * that both pages hold 20 runs.
 */
const RUN_LISTS = [
  ...['createdAt', 'startedAt', 'completedAt', 'status', 'flowName'].map((sortBy) => `sortBy=${sortBy}`),
  'sortBy=createdAt&sortOrder=asc',
  'status=completed',
  'flowName=FLOW',
  'flowName=FLOW&status=completed&sortBy=completedAt',
].map((query) => `/api/v1/runs?limit=20&${query}`)
const PAGE_RUNS = 20

async function migratedFile(dir: string): Promise<string> {
  const path = join(dir, 'maxq.db')
  const store = await openStore({ databaseUrl: undefined, sqlitePath: path })
  await store.close()
  return path
}

function seed(path: string, finished: number, blocked: number, stepsPerRun: number): void {
  const db = new Database(path)
  const now = Date.now() - 3_600_000
  const run = db.prepare(
    `INSERT INTO runs (id, flow_name, status, created_at, started_at, completed_at, updated_at)
     VALUES (?, 'seeded', ?, ?, ?, ?, ?)`,
  )
  const stage = db.prepare(
    `INSERT INTO stages (run_id, seq, name, final, status, created_at, started_at, completed_at)
     VALUES (?, 0, 'only', 1, ?, ?, ?, ?)`,
  )
  const step = db.prepare(
    `INSERT INTO steps (run_id, step_id, flow_name, stage_seq, stage_name, name, status, depends_on, unmet_deps,
       max_retries, attempt, env, exit_code, stdout, stderr, fields, created_at, started_at, completed_at, updated_at)
     VALUES (?, ?, 'seeded', 0, 'only', 'post', ?, ?, ?, 0, ?, '{}', ?, ?, '', ?, ?, ?, ?, ?)`,
  )
  const edge = db.prepare(`INSERT INTO step_dependencies (run_id, depends_on, step_id) VALUES (?, ?, ?)`)
  db.transaction(() => {
    for (let r = 0; r * stepsPerRun < finished; r++) {
      const id = `done-${r}`
      const t = now + r
      run.run(id, 'completed', t, t, t + 1000, t + 1000)
      stage.run(id, 'completed', t, t, t + 1000)
      for (let s = 0; s < stepsPerRun && r * stepsPerRun + s < finished; s++) {
        step.run(id, `s${s}`, 'completed', '[]', 0, 1, 0, 'ok\n', '{"n":1}', t, t, t + 10, t + 10)
      }
    }
    // Open runs whose steps all wait on a dependency that never completes (a gate in a cycle):
    // they sit in the steps table and the dependency index without ever being claimable.
    for (let r = 0; r * BLOCKED_STEPS_PER_RUN < blocked; r++) {
      const id = `blocked-${r}`
      const t = now + r
      run.run(id, 'running', t, t, null, t)
      stage.run(id, 'running', t, t, null)
      for (let s = 0; s < BLOCKED_STEPS_PER_RUN && r * BLOCKED_STEPS_PER_RUN + s < blocked; s++) {
        const dep = s === 0 ? `s${BLOCKED_STEPS_PER_RUN - 1}` : 's0'
        step.run(id, `s${s}`, 'pending', JSON.stringify([dep]), 1, 0, null, null, '{}', t, null, null, t)
        edge.run(id, dep, `s${s}`)
      }
    }
  })()
  db.exec('ANALYZE')
  db.close()
}

class Rollback extends Error {}

interface ClaimTiming {
  medianUs: number
  plan: string
}

/** Times the claim on each file, CLAIM_SAMPLES each, the files taking turns. */
async function timeClaims(paths: string[]): Promise<ClaimTiming[]> {
  const samples = paths.map((): number[] => [])
  const plans = paths.map(() => '')
  for (let turn = 0; turn < CLAIM_TURNS; turn++) {
    for (const [p, path] of paths.entries()) {
      const timing = await timeClaim(path, CLAIM_SAMPLES / CLAIM_TURNS)
      samples[p]?.push(...timing.samples)
      plans[p] = timing.plan
    }
  }
  return samples.map((values, p) => ({ medianUs: median(values), plan: plans[p] ?? '' }))
}

/** Times claimReadySteps on the file: 10 claimable steps, claimed in a transaction rolled back. */
async function timeClaim(path: string, count: number): Promise<{ samples: number[]; plan: string }> {
  const dialect = openSqlite(path)
  const samples: number[] = []
  let captured: SQL | null = null
  try {
    for (let i = 0; i < count; i++) {
      await dialect
        .transaction(async (q) => {
          const now = Date.now()
          await q.execScript(
            `INSERT INTO runs (id, flow_name, status, created_at, started_at, updated_at)
               VALUES ('claim-test', 'seeded', 'running', ${now}, ${now}, ${now});
             INSERT INTO stages (run_id, seq, name, final, status, created_at, started_at)
               VALUES ('claim-test', 0, 'only', 1, 'running', ${now}, ${now});` +
              Array.from(
                { length: 10 },
                (_, s) =>
                  `INSERT INTO steps (run_id, step_id, flow_name, stage_seq, stage_name, name, status, depends_on,
                     unmet_deps, max_retries, env, available_at, created_at, updated_at)
                   VALUES ('claim-test', 'c${s}', 'seeded', 0, 'only', 'post', 'pending', '[]', 0, 0, '{}', ${now}, ${now}, ${now});`,
              ).join('\n'),
          )
          const recording = {
            ...q,
            all: <T>(query: SQL): Promise<T[]> => {
              captured = query
              return q.all<T>(query)
            },
          }
          const t0 = performance.now()
          const claimed = await claimReadySteps(recording, dialect, { workerId: 'bench', limit: 10 }, now + 1)
          samples.push((performance.now() - t0) * 1000)
          if (claimed.length !== 10)
            throw new Error(`bench: the claim took ${claimed.length} steps, expected 10`)
          throw new Rollback()
        })
        .catch((error: unknown) => {
          if (!(error instanceof Rollback)) throw error
        })
    }
  } finally {
    await dialect.close()
  }
  let plan = ''
  if (captured !== null) {
    const query = renderQuery(renderer, captured)
    const db = new Database(path, { readonly: true })
    const rows = db.prepare(`EXPLAIN QUERY PLAN ${query.sql}`).all(...(query.params as unknown[])) as {
      detail: string
    }[]
    plan = rows.map((row) => row.detail).join('; ')
    db.close()
  }
  return { samples, plan }
}

function find(metrics: Metric[], workload: string): number[] | null {
  return metrics.find((metric) => metric.workload === workload && metric.floor !== undefined)?.samples ?? null
}

/** What the history changes besides the chain and the fan-out: ms, medians. */
interface ApiTimes {
  triggerToFirstStep: number
  getRun: number
  lists: Map<string, number>
}

/** Median ms of each server's answers to `pathOf(server)`, the servers asked in turn. */
async function timeGets(servers: RunningServer[], pathOf: (i: number) => string): Promise<number[]> {
  const times = servers.map((): number[] => [])
  for (let i = 0; i < API_SAMPLES; i++) {
    for (const [s, server] of servers.entries()) {
      const t0 = performance.now()
      await server.client.json('GET', pathOf(s))
      times[s]?.push(performance.now() - t0)
    }
  }
  return times.map(median)
}

/** Trigger → first step: a run on each server in turn; answers each server's median and last run. */
async function firstSteps(servers: RunningServer[], reps: number): Promise<{ ms: number; runId: string }[]> {
  const samples = servers.map((): number[] => [])
  const runIds = servers.map(() => '')
  for (let i = 0; i < Math.max(reps, 5); i++) {
    for (const [s, server] of servers.entries()) {
      const run = await runFlow(server.client, HELLO_FLOW)
      runIds[s] = run.id
      const { steps } = await server.client.json<{ steps: { id: string; startedAt: number | null }[] }>(
        'GET',
        `/api/v1/runs/${run.id}/steps`,
      )
      const first = steps.find((step) => step.id === 's1')?.startedAt
      if (first != null) samples[s]?.push(first - run.createdAt)
    }
  }
  return samples.map((values, s) => ({ ms: median(values), runId: runIds[s] ?? '' }))
}

/** The API figures of both servers, measured side by side. */
async function apiTimes(
  servers: [RunningServer, RunningServer],
  reps: number,
): Promise<[ApiTimes, ApiTimes]> {
  const first = await firstSteps(servers, reps)
  const getRun = await timeGets(servers, (s) => `/api/v1/runs/${first[s]?.runId}`)
  for (let i = 0; i < PAGE_RUNS; i++) await runFlow(servers[0].client, HELLO_FLOW)
  const flows = [HELLO_FLOW, 'seeded']
  const lists = [new Map<string, number>(), new Map<string, number>()]
  for (const path of RUN_LISTS) {
    const [empty = Number.NaN, seeded = Number.NaN] = await timeGets(servers, (s) =>
      path.replace('FLOW', flows[s] ?? ''),
    )
    lists[0]?.set(path, empty)
    lists[1]?.set(path, seeded)
  }
  const times = (s: number): ApiTimes => ({
    triggerToFirstStep: first[s]?.ms ?? Number.NaN,
    getRun: getRun[s] ?? Number.NaN,
    lists: lists[s] ?? new Map(),
  })
  return [times(0), times(1)]
}

export async function growth(ctx: BenchContext, earlier: Metric[]): Promise<Metric[]> {
  if (ctx.databaseUrl !== undefined) {
    ctx.log('growth: SQLite only (it seeds a SQLite file); skipped on PostgreSQL')
    return []
  }
  const {
    chain: chainN,
    fanoutSmall: fanN,
    growthFinishedSteps: finished,
    growthBlockedSteps: blocked,
    growthStepsPerRun: stepsPerRun,
  } = ctx.sizes
  const dir = mkdtempSync(join(tmpdir(), 'maxq-bench-growth-'))
  try {
    const emptyPath = await migratedFile(mkdtempSync(join(dir, 'empty-')))
    const seededPath = await migratedFile(mkdtempSync(join(dir, 'seeded-')))
    const emptyBytes = databaseBytes(emptyPath)
    seed(seededPath, finished, blocked, stepsPerRun)
    const bytesPerStep = (databaseBytes(seededPath) - emptyBytes) / (finished + blocked)
    const [emptyClaim, seededClaim] = (await timeClaims([emptyPath, seededPath])) as [
      ClaimTiming,
      ClaimTiming,
    ]

    let emptyChain = find(earlier, `chain-${chainN}`)
    let emptyFan = find(earlier, `fanout-${fanN}`)
    const empty = await ctx.startServer()
    const server = await ctx.startServer({ sqlitePath: seededPath }).catch(async (error: unknown) => {
      await empty.stop()
      throw error
    })
    let seededChain: number[]
    let seededFan: number[]
    let emptyApi: ApiTimes
    let seededApi: ApiTimes
    try {
      await runFlow(empty.client, HELLO_FLOW)
      await runFlow(server.client, HELLO_FLOW)
      emptyChain ??= await chainSamples(empty, chainN, ctx.reps)
      emptyFan ??= await fanoutSamples(empty, fanN, ctx.reps)
      seededChain = await chainSamples(server, chainN, ctx.reps)
      seededFan = await fanoutSamples(server, fanN, ctx.reps)
      ;[emptyApi, seededApi] = await apiTimes([empty, server], ctx.reps)
    } finally {
      await Promise.all([empty.stop(), server.stop()])
    }
    const label = `growth (${finished.toLocaleString('en')} done in ${(finished / stepsPerRun).toLocaleString('en')} runs, ${blocked.toLocaleString('en')} blocked)`
    const times = (x: number, y: number): string => `${(x / y).toFixed(2)}× the empty database`
    const ratio = (a: number[], b: number[]): string => times(median(a), median(b))
    const apiMetric = (metric: string, seeded: number, emptyMs: number): Metric => ({
      workload: label,
      metric: `${metric} (target ≤ 1.2× empty)`,
      unit: 'ms',
      better: 'lower',
      samples: [seeded],
      note: `${times(seeded, emptyMs)} (${emptyMs.toFixed(2)} ms)`,
    })
    return [
      {
        workload: label,
        metric: `chain-${chainN} per hop`,
        unit: 'ms',
        better: 'lower',
        samples: seededChain,
        note: ratio(seededChain, emptyChain),
      },
      {
        workload: label,
        metric: `fanout-${fanN}`,
        unit: 'steps/s',
        better: 'higher',
        samples: seededFan,
        note: `${(median(emptyFan) / median(seededFan)).toFixed(2)}× slower than the empty database`,
      },
      {
        workload: label,
        metric: 'claim of 10 steps',
        unit: 'µs',
        better: 'lower',
        samples: [seededClaim.medianUs],
        note: `empty database ${emptyClaim.medianUs.toFixed(0)} µs (${(seededClaim.medianUs / emptyClaim.medianUs).toFixed(2)}×); plan: ${seededClaim.plan}`,
      },
      apiMetric('trigger → first step', seededApi.triggerToFirstStep, emptyApi.triggerToFirstStep),
      apiMetric('GET /runs/{run}', seededApi.getRun, emptyApi.getRun),
      ...RUN_LISTS.map((path) =>
        apiMetric(
          `GET ${path.replace('/api/v1', '').replace('FLOW', '<flow>')}`,
          seededApi.lists.get(path) ?? Number.NaN,
          emptyApi.lists.get(path) ?? Number.NaN,
        ),
      ),
      {
        workload: label,
        metric: 'database size per step',
        unit: 'bytes',
        better: 'lower',
        samples: [bytesPerStep],
        note: 'seeded rows: a run, its stage and its steps with a small field and a line of stdout each',
      },
    ]
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The SQLite file with its WAL. */
function databaseBytes(path: string): number {
  return [path, `${path}-wal`].reduce((sum, file) => sum + (existsSync(file) ? statSync(file).size : 0), 0)
}
