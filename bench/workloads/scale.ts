// scale: a stage of `bigFanout` (10,000) steps, and `runsAtOnce` runs of `runsAtOnceSteps` steps
// triggered together. For the big stage: its stage request's own time (curl's, inside the flow),
// steps/s against the floor's xargs, the server's peak RSS, and the server's CPU time per step at
// fanout-1000 and at the big size. Equal CPU per step at both sizes is the profile-level evidence
// that no query or loop grows with the square of the stage size; --cpu-prof shows where it goes.

import { join } from 'node:path'
import type { BenchContext, Metric } from '../support/context.js'
import { fanoutFlowName, HELLO_FLOW, scheduleSeconds } from '../support/flows.js'
import { cpuSeconds, MemorySampler } from '../support/proc.js'
import { runFlow, trigger, waitForRuns } from '../support/runs.js'
import type { RunningServer } from '../support/server.js'
import { fmt, median } from '../support/stats.js'

const MIB = 1024 * 1024

interface BigRun {
  stepsPerSecond: number
  scheduleMs: number
  peakMiB: number
  cpuUsPerStep: number
}

async function bigRun(ctx: BenchContext, server: RunningServer, n: number): Promise<BigRun> {
  const flow = fanoutFlowName(n)
  const cpu0 = cpuSeconds(server.pid) ?? 0
  const sampler = new MemorySampler(server.pid, 50)
  const run = await runFlow(server.client, flow)
  const peak = sampler.stop()
  const cpu1 = cpuSeconds(server.pid) ?? 0
  return {
    stepsPerSecond: n / (run.ms / 1000),
    // The flow appends one line per call; the floor's calls too, so read right after our run.
    scheduleMs: (scheduleSeconds(ctx.flowsRoot, flow).at(-1) ?? Number.NaN) * 1000,
    peakMiB: peak.serverPeakBytes / MIB,
    cpuUsPerStep: ((cpu1 - cpu0) / n) * 1e6,
  }
}

/** `runs` runs of the same fan-out triggered at once: steps/s from the first trigger to the last end. */
async function runsAtOnce(server: RunningServer, flow: string, runs: number, steps: number): Promise<number> {
  const started = await Promise.all(Array.from({ length: runs }, () => trigger(server.client, flow)))
  const ended = await waitForRuns(
    server.client,
    started.map((run) => run.id),
  )
  const first = Math.min(...ended.map((run) => run.createdAt))
  const last = Math.max(...ended.map((run) => run.completedAt))
  return (runs * steps) / ((last - first) / 1000)
}

export async function scale(ctx: BenchContext): Promise<Metric[]> {
  const { bigFanout: big, fanoutLarge: base, runsAtOnce: runs, runsAtOnceSteps: perRun } = ctx.sizes
  // --cpu-prof DIR: this server is profiled too (the profile shows where a big stage's time goes).
  const server = await ctx.startServer(
    ctx.cpuProfDir === undefined
      ? undefined
      : { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${ctx.cpuProfDir}`, '--cpu-prof-name=scale.cpuprofile'] },
  )
  const bigRuns: BigRun[] = []
  const baseRuns: BigRun[] = []
  const many: number[] = []
  const floorBig: number[] = []
  const floorMany: number[] = []
  try {
    await runFlow(server.client, HELLO_FLOW)
    for (let i = 0; i < ctx.reps; i++) {
      baseRuns.push(await bigRun(ctx, server, base))
      bigRuns.push(await bigRun(ctx, server, big))
      many.push(await runsAtOnce(server, fanoutFlowName(perRun), runs, perRun))
      const bigScript = join(ctx.flowsRoot, fanoutFlowName(big), 'flow.sh')
      floorBig.push(big / ((await ctx.floor.fanout(bigScript, big)) / 1000))
      // The floor of many runs: all their steps through one xargs (one flow call instead of `runs`).
      floorMany.push((runs * perRun) / ((await ctx.floor.fanout(bigScript, runs * perRun)) / 1000))
    }
  } finally {
    await server.stop()
  }
  const name = `fanout-${big}`
  const cpuRatio = median(bigRuns.map((r) => r.cpuUsPerStep)) / median(baseRuns.map((r) => r.cpuUsPerStep))
  return [
    {
      workload: name,
      metric: 'throughput (target ≥ 80% of floor)',
      unit: 'steps/s',
      better: 'higher',
      samples: bigRuns.map((r) => r.stepsPerSecond),
      floor: floorBig,
    },
    {
      workload: name,
      metric: 'stage request (target ≤ 1000)',
      unit: 'ms',
      better: 'lower',
      samples: bigRuns.map((r) => r.scheduleMs),
      note: `fanout-${base}: ${fmt(median(baseRuns.map((r) => r.scheduleMs)))} ms, ${fmt(
        median(bigRuns.map((r) => r.scheduleMs)) / median(baseRuns.map((r) => r.scheduleMs)),
      )}× for ${big / base}× the steps`,
    },
    {
      workload: name,
      metric: 'server peak RSS (target ≤ 150)',
      unit: 'MiB',
      better: 'lower',
      samples: bigRuns.map((r) => r.peakMiB),
      note: `fanout-${base}: ${fmt(median(baseRuns.map((r) => r.peakMiB)))} MiB`,
    },
    {
      workload: name,
      metric: 'server CPU per step',
      unit: 'µs',
      better: 'lower',
      samples: bigRuns.map((r) => r.cpuUsPerStep),
      note: `fanout-${base}: ${fmt(median(baseRuns.map((r) => r.cpuUsPerStep)))} µs; ${fmt(cpuRatio)}× per step at ${big / base}× the size (1 = linear)`,
    },
    {
      workload: `runs ${runs}×${perRun} at once`,
      metric: 'throughput (target ≥ 80% of floor)',
      unit: 'steps/s',
      better: 'higher',
      samples: many,
      floor: floorMany,
    },
  ]
}
