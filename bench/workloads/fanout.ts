// fanout-N: one stage of N parallel steps; steps/s. The large fan-out also samples memory: peak
// RSS of the server and of its whole process tree every 50 ms, and the server's RSS after each
// repetition (to see growth).

import { join } from 'node:path'
import type { BenchContext, Metric } from '../support/context.js'
import { fanoutFlowName, HELLO_FLOW } from '../support/flows.js'
import { MemorySampler, rssBytes } from '../support/proc.js'
import type { RunningServer } from '../support/server.js'
import { runFlow } from '../support/runs.js'

const MIB = 1024 * 1024

export async function fanoutSamples(server: RunningServer, n: number, reps: number): Promise<number[]> {
  const samples: number[] = []
  for (let i = 0; i < reps; i++)
    samples.push(n / ((await runFlow(server.client, fanoutFlowName(n))).ms / 1000))
  return samples
}

export async function fanout(ctx: BenchContext, n: number, withMemory: boolean): Promise<Metric[]> {
  const profile = !withMemory && ctx.cpuProfDir !== undefined
  const server = await ctx.startServer(
    profile ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${ctx.cpuProfDir ?? ''}`] } : undefined,
  )
  const name = `fanout-${n}`
  try {
    await runFlow(server.client, HELLO_FLOW)
    const samples: number[] = []
    const floor: number[] = []
    const serverPeak: number[] = []
    const treePeak: number[] = []
    const after: number[] = []
    for (let i = 0; i < ctx.reps; i++) {
      const sampler = withMemory ? new MemorySampler(server.pid, 50) : null
      samples.push(n / ((await runFlow(server.client, fanoutFlowName(n))).ms / 1000))
      const peak = sampler?.stop()
      if (peak) {
        serverPeak.push(peak.serverPeakBytes / MIB)
        treePeak.push(peak.treePeakBytes / MIB)
        after.push(rssBytes(server.pid) / MIB)
      }
      floor.push(n / ((await ctx.floor.fanout(join(ctx.flowsRoot, fanoutFlowName(n), 'flow.sh'), n)) / 1000))
    }
    const reference = n >= 1000 ? '49.7 | 126' : n >= 200 ? '49.9 | 145' : undefined
    const metrics: Metric[] = [
      { workload: name, metric: 'throughput', unit: 'steps/s', better: 'higher', samples, floor, reference },
    ]
    if (withMemory) {
      metrics.push(
        {
          workload: 'memory',
          metric: `server peak RSS (${name})`,
          unit: 'MiB',
          better: 'lower',
          samples: serverPeak,
          reference: '191',
        },
        {
          workload: 'memory',
          metric: `tree peak RSS (${name})`,
          unit: 'MiB',
          better: 'lower',
          samples: treePeak,
          reference: '362 | 992',
        },
        {
          workload: 'memory',
          metric: 'server RSS after each repetition',
          unit: 'MiB',
          better: 'lower',
          samples: after,
          note: `in order: ${after.map((mib) => mib.toFixed(1)).join(', ')}`,
        },
      )
    }
    return metrics
  } finally {
    await server.stop()
  }
}
