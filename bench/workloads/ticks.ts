// ticks: the fan-outs of the fanout workload (same flows, same step script) against MaxQ deployed
// the multi-process way, one `maxq serve` and N `maxq tick --watch`, with 1 and with 4 tick
// processes, each deployment on a fresh PostgreSQL database: steps/s for each N, and the ratio
// 4-vs-1 (the performance target: at least 1). Default configuration otherwise, so four tick
// processes may run 4 × MAXQ_MAX_CONCURRENT_STEPS steps at once where one runs 10; that is what a
// user gets, and the note says how many ran at once. Each repetition starts both deployments in
// turn, alternating which goes first, so a drift in the machine's load favours neither; the ratio
// is taken per repetition (paired). PostgreSQL only: SQLite's deployment is one process.

import { join } from 'node:path'
import type { BenchContext, Metric } from '../support/context.js'
import type { RunningDeployment } from '../support/deployment.js'
import { fanoutFlowName, HELLO_FLOW } from '../support/flows.js'
import { runFlow } from '../support/runs.js'
import { fmt, median } from '../support/stats.js'

/** The baseline and the scaled-out deployment: the target compares these two. */
const ONE = 1
const MANY = 4
const TICK_COUNTS = [ONE, MANY]

const DEFAULT_MAX_CONCURRENT_STEPS = 10

interface StepRecord {
  workerId: string | null
  attempt: number
  startedAt: number | null
  completedAt: number | null
}

/** What one fan-out run looked like from the steps' records. */
interface Spread {
  /** Steps run by each tick process, in start order, as % of the run. */
  sharesPct: number[]
  /** Most steps running at the same moment (startedAt → completedAt). */
  peakRunning: number
  /** Steps that needed more than one attempt. */
  retried: number
}

async function spreadOf(deployment: RunningDeployment, runId: string): Promise<Spread> {
  const { steps } = await deployment.client.json<{ steps: StepRecord[] }>(
    'GET',
    // The largest page (1000 steps) holds the largest fan-out.
    `/api/v1/runs/${runId}/steps?limit=1000`,
  )
  // workerId is `<host>:<pid>:<random>` (cli/config.ts).
  const byPid = new Map<number, number>()
  for (const step of steps) {
    const pid = Number(step.workerId?.split(':').at(-2))
    byPid.set(pid, (byPid.get(pid) ?? 0) + 1)
  }
  const events: Array<[number, number]> = []
  for (const step of steps) {
    if (step.startedAt === null || step.completedAt === null) continue
    events.push([step.startedAt, 1], [step.completedAt, -1])
  }
  // An end before a start at the same millisecond: a slot freed and taken again is not two.
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1])
  let running = 0
  let peakRunning = 0
  for (const [, delta] of events) {
    running += delta
    peakRunning = Math.max(peakRunning, running)
  }
  return {
    sharesPct: deployment.tickPids.map((pid) => ((byPid.get(pid) ?? 0) / steps.length) * 100),
    peakRunning,
    retried: steps.filter((step) => step.attempt > 1).length,
  }
}

export async function ticks(ctx: BenchContext): Promise<Metric[]> {
  const sizes = [...new Set([ctx.sizes.fanoutSmall, ctx.sizes.fanoutLarge])]
  const samples = new Map<string, number[]>()
  const spreads = new Map<string, Spread[]>()
  const floors = new Map<number, number[]>(sizes.map((n) => [n, []]))
  const problems: string[] = []
  const key = (n: number, count: number): string => `${n}/${count}`
  const push = <T>(map: Map<string, T[]>, k: string, value: T): void => {
    map.set(k, [...(map.get(k) ?? []), value])
  }

  for (let rep = 0; rep < ctx.reps; rep++) {
    const order = rep % 2 === 0 ? [...TICK_COUNTS] : [...TICK_COUNTS].reverse()
    for (const count of order) {
      const deployment = await ctx.startDeployment(count)
      try {
        await runFlow(deployment.client, HELLO_FLOW)
        for (const n of sizes) {
          const run = await runFlow(deployment.client, fanoutFlowName(n))
          push(samples, key(n, count), n / (run.ms / 1000))
          push(spreads, key(n, count), await spreadOf(deployment, run.id))
        }
      } finally {
        problems.push(...deployment.problems().map((line) => `${count} tick(s), rep ${rep + 1}: ${line}`))
        await deployment.stop()
      }
    }
    for (const n of sizes) {
      const flowScript = join(ctx.flowsRoot, fanoutFlowName(n), 'flow.sh')
      floors.get(n)?.push(n / ((await ctx.floor.fanout(flowScript, n)) / 1000))
    }
  }

  const limit = Number(ctx.env.MAXQ_MAX_CONCURRENT_STEPS ?? DEFAULT_MAX_CONCURRENT_STEPS)
  const metrics: Metric[] = []
  for (const n of sizes) {
    const workload = `ticks fanout-${n}`
    const floor = floors.get(n) ?? []
    for (const count of TICK_COUNTS) {
      const runs = spreads.get(key(n, count)) ?? []
      const peaks = runs.map((spread) => spread.peakRunning).join(', ')
      const retried = runs.reduce((sum, spread) => sum + spread.retried, 0)
      const shares =
        count > 1
          ? `; steps per tick process: ${runs
              .map((spread) => spread.sharesPct.map((pct) => `${pct.toFixed(0)}%`).join('/'))
              .join(', ')}`
          : ''
      metrics.push({
        workload,
        metric: `${count} tick${count > 1 ? 's' : ''}: throughput`,
        unit: 'steps/s',
        better: 'higher',
        samples: samples.get(key(n, count)) ?? [],
        floor,
        note:
          `up to ${count * limit} steps at once (${count} × ${limit}); peak running per rep: ${peaks}` +
          `${shares}${retried > 0 ? `; ${retried} step(s) needed a second attempt` : ''}`,
      })
    }
    const base = samples.get(key(n, ONE)) ?? []
    const scaled = samples.get(key(n, MANY)) ?? []
    const ratios = scaled.map((value, i) => value / (base[i] ?? Number.NaN))
    metrics.push({
      workload,
      metric: `${MANY} vs ${ONE} tick (target ≥ 1)`,
      unit: '×',
      better: 'higher',
      samples: ratios,
      note: `paired per repetition; ratio of the medians ${fmt(median(scaled) / median(base))}`,
    })
  }
  if (problems.length > 0) {
    metrics.push({
      workload: 'ticks',
      metric: 'WARN/ERROR log lines',
      unit: 'lines',
      better: 'lower',
      samples: [problems.length],
      note: `the first: ${problems.slice(0, 5).join('\n    ')}`,
    })
  }
  return metrics
}
