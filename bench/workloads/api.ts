// api: POST fields and GET run at 1 and 32 concurrent keep-alive connections (node:http Agent),
// bounded by time and request count, loopback only. The floor is the floor server answering the
// same requests. The load generator is one Node process: on a small machine it competes with the
// server for CPU, which the floor figures share. So each load also reports the server's own CPU
// time (user + system, all its threads) per request, which the machine's noise moves less than
// the rate.

import type { BenchContext, Metric } from '../support/context.js'
import { HELLO_FLOW } from '../support/flows.js'
import { HttpClient } from '../support/http.js'
import { cpuSeconds } from '../support/proc.js'
import { runFlow } from '../support/runs.js'
import { percentile } from '../support/stats.js'

interface LoadResult {
  rps: number
  p50: number
  p99: number
  /** The server's CPU time per request, µs. */
  cpuUs: number
}

async function load(
  server: { origin: string; pid: number },
  connections: number,
  seconds: number,
  maxRequests: number,
  method: string,
  path: string,
  body: unknown,
): Promise<LoadResult> {
  const client = new HttpClient(server.origin, connections)
  const cpuBefore = cpuSeconds(server.pid) ?? 0
  try {
    const latencies: number[] = []
    let issued = 0
    const started = performance.now()
    const deadline = started + seconds * 1000
    const worker = async (): Promise<void> => {
      while (issued < maxRequests && performance.now() < deadline) {
        issued++
        const t0 = performance.now()
        const res = await client.send(method, path, body)
        if (res.status >= 300)
          throw new Error(`bench: ${method} ${path} answered ${res.status}: ${res.body.slice(0, 200)}`)
        latencies.push(performance.now() - t0)
      }
    }
    await Promise.all(Array.from({ length: connections }, worker))
    const elapsed = (performance.now() - started) / 1000
    latencies.sort((a, b) => a - b)
    const cpuUs = (((cpuSeconds(server.pid) ?? 0) - cpuBefore) * 1e6) / latencies.length
    return {
      rps: latencies.length / elapsed,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      cpuUs,
    }
  } finally {
    client.close()
  }
}

export async function api(ctx: BenchContext): Promise<Metric[]> {
  const server = await ctx.startServer()
  try {
    const run = await runFlow(server.client, HELLO_FLOW)
    const cases = [
      {
        name: 'POST fields',
        method: 'POST',
        path: `/api/v1/runs/${run.id}/steps/s1/fields`,
        body: { fields: { n: 1 } },
      },
      { name: 'GET run', method: 'GET', path: `/api/v1/runs/${run.id}`, body: undefined },
    ]
    const references: Record<string, string> = {
      'POST fields@1': '1.9k',
      'POST fields@32': '3.0k',
      'GET run@32': '4.3k',
    }
    const metrics: Metric[] = []
    for (const c of cases) {
      for (const connections of [1, 32]) {
        const own: LoadResult[] = []
        const floor: LoadResult[] = []
        // Warm-up: JIT and the connection pool, not counted.
        await load(server, connections, 0.3, 2000, c.method, c.path, c.body)
        for (let i = 0; i < ctx.reps; i++) {
          own.push(
            await load(
              server,
              connections,
              ctx.sizes.apiSeconds,
              ctx.sizes.apiMaxRequests,
              c.method,
              c.path,
              c.body,
            ),
          )
          floor.push(
            await load(
              ctx.floorServer,
              connections,
              ctx.sizes.apiSeconds,
              ctx.sizes.apiMaxRequests,
              c.method,
              c.path,
              c.body,
            ),
          )
        }
        const workload = `api ${c.name} @${connections}`
        const figure = (
          metric: string,
          unit: string,
          better: Metric['better'],
          value: (result: LoadResult) => number,
        ): Metric => ({ workload, metric, unit, better, samples: own.map(value), floor: floor.map(value) })
        const reference = references[`${c.name}@${connections}`]
        metrics.push(
          { ...figure('throughput', 'req/s', 'higher', (r) => r.rps), ...(reference ? { reference } : {}) },
          figure('p50', 'ms', 'lower', (r) => r.p50),
          figure('p99', 'ms', 'lower', (r) => r.p99),
          figure('server CPU per request', 'µs', 'lower', (r) => r.cpuUs),
        )
      }
    }
    return metrics
  } finally {
    await server.stop()
  }
}
