import { join } from 'node:path'
// hello: two stages of one step each, trigger → completed.

import type { BenchContext, Metric } from '../support/context.js'
import { HELLO_FLOW } from '../support/flows.js'
import { runFlow } from '../support/runs.js'

export async function hello(ctx: BenchContext): Promise<Metric[]> {
  const server = await ctx.startServer()
  try {
    await runFlow(server.client, HELLO_FLOW) // warm-up, not counted
    const samples: number[] = []
    const floor: number[] = []
    for (let i = 0; i < ctx.reps; i++) {
      samples.push((await runFlow(server.client, HELLO_FLOW)).ms)
      floor.push(await ctx.floor.hello(join(ctx.flowsRoot, HELLO_FLOW, 'flow.sh')))
    }
    return [
      {
        workload: 'hello',
        metric: 'trigger → completed',
        unit: 'ms',
        better: 'lower',
        samples,
        floor,
        reference: '391 | 89',
      },
    ]
  } finally {
    await server.stop()
  }
}
