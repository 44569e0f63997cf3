// growth: chain and fanout, and the claim query's own time, with a long history in the database
// (support/history.ts seeds it, on SQLite or PostgreSQL). The claim is timed by calling
// db/queries/claim-ready-steps on each database, with 10 claimable steps inserted in a transaction
// that is rolled back. Beside them: trigger → first step, GET /runs/{run} and GET /runs with every
// sort and filter, each against an empty database (the two databases, and the two servers, take the
// samples in turn), and the database's size per seeded step.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { SQL } from 'drizzle-orm'
import { openDialect, type DatabaseConfig } from '../../db/open-dialect.js'
import { claimReadySteps } from '../../db/queries/claim-ready-steps.js'
import type { BenchContext, Metric } from '../support/context.js'
import { postgresHistory, sqliteHistory, type History } from '../support/history.js'
import { HELLO_FLOW } from '../support/flows.js'
import { runFlow } from '../support/runs.js'
import type { RunningServer } from '../support/server.js'
import { median } from '../support/stats.js'
import { chainSamples } from './chain.js'
import { fanoutSamples } from './fanout.js'

const CLAIM_SAMPLES = 300
/** The claim's samples are taken in this many turns per database, alternating between them. */
const CLAIM_TURNS = 10
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

class Rollback extends Error {}

/** Times the claim on each database, CLAIM_SAMPLES each, the databases taking turns: median µs. */
async function timeClaims(
  databases: DatabaseConfig[],
): Promise<{ medians: number[]; statement: SQL | null }> {
  const samples = databases.map((): number[] => [])
  let statement: SQL | null = null
  for (let turn = 0; turn < CLAIM_TURNS; turn++) {
    for (const [d, database] of databases.entries()) {
      const timing = await timeClaim(database, CLAIM_SAMPLES / CLAIM_TURNS)
      samples[d]?.push(...timing.samples)
      statement = timing.statement
    }
  }
  return { medians: samples.map(median), statement }
}

/** Times claimReadySteps on the database: 10 claimable steps, claimed in a transaction rolled back. */
async function timeClaim(
  database: DatabaseConfig,
  count: number,
): Promise<{ samples: number[]; statement: SQL | null }> {
  const dialect = await openDialect(database)
  const samples: number[] = []
  let statement: SQL | null = null
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
              statement = query
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
  return { samples, statement }
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
  const {
    chain: chainN,
    fanoutSmall: fanN,
    growthFinishedSteps: finished,
    growthBlockedSteps: blocked,
    growthStepsPerRun: stepsPerRun,
  } = ctx.sizes
  const size = { finished, blocked, stepsPerRun }
  const dir = mkdtempSync(join(tmpdir(), 'maxq-bench-growth-'))
  let history: History | null = null
  try {
    history =
      ctx.databaseUrl === undefined
        ? await sqliteHistory(ctx, dir, size)
        : await postgresHistory(ctx, ctx.databaseUrl, size)
    const { bytesPerStep } = history
    const claims = await timeClaims([history.empty, history.seeded])
    const [emptyClaimUs = Number.NaN, seededClaimUs = Number.NaN] = claims.medians
    const plan = claims.statement === null ? '' : await history.plan(claims.statement)

    let emptyChain = find(earlier, `chain-${chainN}`)
    let emptyFan = find(earlier, `fanout-${fanN}`)
    const empty = await ctx.startServer()
    const server = await history.startSeeded().catch(async (error: unknown) => {
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
        samples: [seededClaimUs],
        note: `empty database ${emptyClaimUs.toFixed(0)} µs (${(seededClaimUs / emptyClaimUs).toFixed(2)}×); plan: ${plan}`,
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
    await history?.remove()
    rmSync(dir, { recursive: true, force: true })
  }
}
