// noop: a fan-out of steps whose script is only `exit 0`, against the floor that starts the same
// script with `xargs -P <cores>`. No curl hides MaxQ's own cost per step here: the figure is what
// MaxQ spends to claim, start, supervise and record one process.

import { join } from 'node:path'
import type { BenchContext, Metric } from '../support/context.js'
import { HELLO_FLOW, noopFlowName, NOOP_STEP_SCRIPT, writeFloorStep } from '../support/flows.js'
import { cpuSeconds } from '../support/proc.js'
import { runFlow } from '../support/runs.js'
import { fmt, median } from '../support/stats.js'

export async function noop(ctx: BenchContext): Promise<Metric[]> {
  const n = ctx.sizes.noopSteps
  const flow = noopFlowName(n)
  const flowScript = join(ctx.flowsRoot, flow, 'flow.sh')
  const floorStep = writeFloorStep(join(ctx.flowsRoot, '..', 'floor'), NOOP_STEP_SCRIPT, 'noop.sh')
  // --cpu-prof DIR: this server is profiled too (no curl in the steps: MaxQ's own cost per start).
  const server = await ctx.startServer(
    ctx.cpuProfDir === undefined
      ? undefined
      : { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${ctx.cpuProfDir}`, '--cpu-prof-name=noop.cpuprofile'] },
  )
  const samples: number[] = []
  const floor: number[] = []
  const cpuUs: number[] = []
  try {
    await runFlow(server.client, HELLO_FLOW)
    for (let i = 0; i < ctx.reps; i++) {
      const cpu0 = cpuSeconds(server.pid) ?? 0
      samples.push(n / ((await runFlow(server.client, flow)).ms / 1000))
      cpuUs.push((((cpuSeconds(server.pid) ?? 0) - cpu0) / n) * 1e6)
      floor.push(n / ((await ctx.floor.fanout(flowScript, n, floorStep)) / 1000))
    }
  } finally {
    await server.stop()
  }
  return [
    {
      workload: `noop-${n}`,
      metric: 'throughput (target ≥ 80% of floor)',
      unit: 'steps/s',
      better: 'higher',
      samples,
      floor,
      note: `server CPU ${fmt(median(cpuUs))} µs per step; floor: xargs -P ${ctx.floor.parallel}`,
    },
  ]
}
