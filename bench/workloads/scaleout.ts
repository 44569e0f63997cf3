// scaleout: a fan-out of steps that each sleep one second (I/O-bound work, which is what more tick
// hosts are for), with MAXQ_MAX_CONCURRENT_STEPS=10 in every process, on one `maxq serve` and 1 or
// 4 `maxq tick --watch` processes, each on a fresh PostgreSQL database. Targets: 4 ticks finish at
// least 3.5× faster than 1, and the CPU time of the MaxQ processes (API and ticks, not the scripts)
// per step with 4 is at most 1.3× that with 1. Repetitions alternate which deployment goes first.

import type { BenchContext, Metric } from '../support/context.js'
import type { RunningDeployment } from '../support/deployment.js'
import { HELLO_FLOW, sleepFlowName } from '../support/flows.js'
import { cpuSeconds } from '../support/proc.js'
import { runFlow } from '../support/runs.js'
import { fmt, median } from '../support/stats.js'

const LIMIT = 10
const ONE = 1
const MANY = 4

interface Sample {
  ms: number
  cpuMsPerStep: number
}

function maxqCpu(deployment: RunningDeployment): number {
  return [deployment.pid, ...deployment.tickPids].reduce((sum, pid) => sum + (cpuSeconds(pid) ?? 0), 0)
}

async function once(ctx: BenchContext, ticks: number, n: number): Promise<Sample> {
  const deployment = await ctx.startDeployment(ticks, { MAXQ_MAX_CONCURRENT_STEPS: String(LIMIT) })
  try {
    await runFlow(deployment.client, HELLO_FLOW)
    const cpu0 = maxqCpu(deployment)
    const run = await runFlow(deployment.client, sleepFlowName(n))
    return { ms: run.ms, cpuMsPerStep: ((maxqCpu(deployment) - cpu0) / n) * 1000 }
  } finally {
    await deployment.stop()
  }
}

export async function scaleout(ctx: BenchContext): Promise<Metric[]> {
  const n = ctx.sizes.sleepSteps
  const one: Sample[] = []
  const many: Sample[] = []
  for (let rep = 0; rep < ctx.reps; rep++) {
    const order = rep % 2 === 0 ? [ONE, MANY] : [MANY, ONE]
    for (const ticks of order) (ticks === ONE ? one : many).push(await once(ctx, ticks, n))
  }
  const speedups = many.map((sample, i) => (one[i]?.ms ?? Number.NaN) / sample.ms)
  const cpuRatios = many.map((sample, i) => sample.cpuMsPerStep / (one[i]?.cpuMsPerStep ?? Number.NaN))
  const workload = `scale-out sleep-1 ×${n}`
  const ideal = (ticks: number): string => `${fmt(n / (ticks * LIMIT))} s if every slot were always busy`
  return [
    {
      workload,
      metric: `${ONE} tick: run time`,
      unit: 's',
      better: 'lower',
      samples: one.map((s) => s.ms / 1000),
      note: ideal(ONE),
    },
    {
      workload,
      metric: `${MANY} ticks: run time`,
      unit: 's',
      better: 'lower',
      samples: many.map((s) => s.ms / 1000),
      note: ideal(MANY),
    },
    {
      workload,
      metric: `${MANY} vs ${ONE} speed-up (target ≥ 3.5)`,
      unit: '×',
      better: 'higher',
      samples: speedups,
      note: 'paired per repetition',
    },
    {
      workload,
      metric: `CPU per step, ${MANY} vs ${ONE} (target ≤ 1.3)`,
      unit: '×',
      better: 'lower',
      samples: cpuRatios,
      note: `API + tick processes: ${fmt(median(one.map((s) => s.cpuMsPerStep)))} ms per step with ${ONE}, ${fmt(
        median(many.map((s) => s.cpuMsPerStep)),
      )} with ${MANY}`,
    },
  ]
}
