// chain-N: N steps in one stage, each depending on the previous; ms per hop.

import { join } from 'node:path'
import type { BenchContext, Metric } from '../support/context.js'
import { chainFlowName, HELLO_FLOW } from '../support/flows.js'
import type { RunningServer } from '../support/server.js'
import { runFlow } from '../support/runs.js'

/** Runs the chain `reps` times on a running server; answers ms per hop per repetition. */
export async function chainSamples(server: RunningServer, n: number, reps: number): Promise<number[]> {
  const samples: number[] = []
  for (let i = 0; i < reps; i++) samples.push((await runFlow(server.client, chainFlowName(n))).ms / n)
  return samples
}

export async function chain(ctx: BenchContext): Promise<Metric[]> {
  const n = ctx.sizes.chain
  const server = await ctx.startServer()
  try {
    await runFlow(server.client, HELLO_FLOW)
    const samples = await chainSamples(server, n, ctx.reps)
    const floor: number[] = []
    const flowScript = join(ctx.flowsRoot, chainFlowName(n), 'flow.sh')
    for (let i = 0; i < ctx.reps; i++) floor.push((await ctx.floor.chain(flowScript, n)) / n)
    return [
      {
        workload: `chain-${n}`,
        metric: 'per hop',
        unit: 'ms',
        better: 'lower',
        samples,
        floor,
        reference: '199.7 | 22.4',
      },
    ]
  } finally {
    await server.stop()
  }
}
