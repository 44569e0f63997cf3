import { join } from 'node:path'
// runs-N: N concurrent hello runs; runs/s from the first trigger to the last completion.

import type { BenchContext, Metric } from '../support/context.js'
import { HELLO_FLOW } from '../support/flows.js'
import { runFlow, trigger, waitForRuns } from '../support/runs.js'

export async function runs(ctx: BenchContext): Promise<Metric[]> {
  const n = ctx.sizes.runs
  const server = await ctx.startServer()
  try {
    await runFlow(server.client, HELLO_FLOW)
    const samples: number[] = []
    const floor: number[] = []
    for (let i = 0; i < ctx.reps; i++) {
      const started = await Promise.all(Array.from({ length: n }, () => trigger(server.client, HELLO_FLOW)))
      const finished = await waitForRuns(
        server.client,
        started.map((run) => run.id),
      )
      const first = Math.min(...finished.map((run) => run.createdAt))
      const last = Math.max(...finished.map((run) => run.completedAt))
      samples.push(n / ((last - first) / 1000))
      floor.push(n / ((await ctx.floor.runs(join(ctx.flowsRoot, HELLO_FLOW, 'flow.sh'), n)) / 1000))
    }
    return [
      {
        workload: `runs-${n}`,
        metric: 'throughput',
        unit: 'runs/s',
        better: 'higher',
        samples,
        floor,
        reference: '19.0 | 26.3',
        note: `floor: ${n} hello sequences (flow.sh, step, flow.sh, step), ${ctx.floor.parallel} at a time`,
      },
    ]
  } finally {
    await server.stop()
  }
}
