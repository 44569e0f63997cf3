// stages-N: N stages of one step, each scheduled by the flow's callback; ms per stage.

import { join } from 'node:path'
import type { BenchContext, Metric } from '../support/context.js'
import { HELLO_FLOW, stagesFlowName } from '../support/flows.js'
import { runFlow } from '../support/runs.js'

export async function stages(ctx: BenchContext): Promise<Metric[]> {
  const n = ctx.sizes.stages
  const server = await ctx.startServer()
  try {
    await runFlow(server.client, HELLO_FLOW)
    const samples: number[] = []
    const floor: number[] = []
    for (let i = 0; i < ctx.reps; i++) {
      samples.push((await runFlow(server.client, stagesFlowName(n))).ms / n)
      floor.push((await ctx.floor.stages(join(ctx.flowsRoot, stagesFlowName(n), 'flow.sh'), n)) / n)
    }
    return [
      {
        workload: `stages-${n}`,
        metric: 'per stage',
        unit: 'ms',
        better: 'lower',
        samples,
        floor,
        reference: '200 | 40.7',
        note: 'floor: per stage, the same flow.sh (posting the next stage) and step.sh, back to back',
      },
    ]
  } finally {
    await server.stop()
  }
}
