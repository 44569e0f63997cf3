// api: POST fields and GET run at 1 and 32 concurrent keep-alive connections (node:http Agent),
// bounded by time and request count, loopback only. The floor is the floor server answering the
// same requests. The load generator is one Node process: on a small machine it competes with the
// server for CPU, which the floor figures share. So each load also reports the server's own CPU
// time (user + system, all its threads) per request, which the machine's noise moves less than
// the rate.
//
// On PostgreSQL, GET run is also measured against a second floor: a bare node:http server reading
// the same run from the same database through postgres.js (support/lookup-floor-server.ts), and
// each side is charged the CPU that all of the host's PostgreSQL processes used during its load.
// PostgreSQL shares the cores with the server and the load generator; this floor is what reading
// the run from it costs before any orchestrator.

import type { BenchContext, Metric } from '../support/context.js'
import { HELLO_FLOW } from '../support/flows.js'
import { HttpClient } from '../support/http.js'
import { startLookupFloorServer, type FloorServer } from '../support/floor.js'
import { commandCpuSeconds, cpuSeconds } from '../support/proc.js'
import { runFlow } from '../support/runs.js'
import { percentile } from '../support/stats.js'

interface LoadResult {
  rps: number
  p50: number
  p99: number
  /** The server's CPU time per request, µs. */
  cpuUs: number
  /** All PostgreSQL processes' CPU time per request, µs (0 on SQLite). */
  databaseCpuUs: number
}

/** The host's PostgreSQL processes are all named so (their `ps` titles differ, their comm not). */
const POSTGRES_COMMAND = 'postgres'

const LOOKUP_FLOOR_NOTE = 'its floor is node:http + postgres.js reading the same run from the same database'

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
  const databaseCpuBefore = commandCpuSeconds(POSTGRES_COMMAND)
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
    const perRequestUs = (seconds: number): number => (seconds * 1e6) / latencies.length
    return {
      rps: latencies.length / elapsed,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      cpuUs: perRequestUs((cpuSeconds(server.pid) ?? 0) - cpuBefore),
      databaseCpuUs: perRequestUs(commandCpuSeconds(POSTGRES_COMMAND) - databaseCpuBefore),
    }
  } finally {
    client.close()
  }
}

export async function api(ctx: BenchContext): Promise<Metric[]> {
  const server = await ctx.startServer()
  let lookupFloor: FloorServer | undefined
  try {
    if (server.databaseUrl !== undefined)
      lookupFloor = await startLookupFloorServer(ctx.root, server.databaseUrl)
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
        const readsDatabase = c.method === 'GET' ? lookupFloor : undefined
        const measure = (target: { origin: string; pid: number }, seconds = ctx.sizes.apiSeconds) =>
          load(target, connections, seconds, ctx.sizes.apiMaxRequests, c.method, c.path, c.body)
        const own: LoadResult[] = []
        const floor: LoadResult[] = []
        const databaseFloor: LoadResult[] = []
        // Warm-up: JIT and the connection pools, not counted.
        await measure(server, 0.3)
        if (readsDatabase !== undefined) await measure(readsDatabase, 0.3)
        for (let i = 0; i < ctx.reps; i++) {
          own.push(await measure(server))
          floor.push(await measure(ctx.floorServer))
          if (readsDatabase !== undefined) databaseFloor.push(await measure(readsDatabase))
        }
        const workload = `api ${c.name} @${connections}`
        const figure = (
          metric: string,
          unit: string,
          better: Metric['better'],
          value: (result: LoadResult) => number,
          against = floor,
        ): Metric => ({ workload, metric, unit, better, samples: own.map(value), floor: against.map(value) })
        const reference = references[`${c.name}@${connections}`]
        metrics.push(
          { ...figure('throughput', 'req/s', 'higher', (r) => r.rps), ...(reference ? { reference } : {}) },
          figure('p50', 'ms', 'lower', (r) => r.p50),
          figure('p99', 'ms', 'lower', (r) => r.p99),
          figure('server CPU per request', 'µs', 'lower', (r) => r.cpuUs),
        )
        if (databaseFloor.length > 0) {
          // Named apart from the rows above, whose floor answers from memory.
          const vsReader = (
            metric: string,
            unit: string,
            better: Metric['better'],
            value: (r: LoadResult) => number,
          ) => figure(`${metric}, floor reading PostgreSQL`, unit, better, value, databaseFloor)
          metrics.push(
            { ...vsReader('throughput', 'req/s', 'higher', (r) => r.rps), note: LOOKUP_FLOOR_NOTE },
            vsReader('p99', 'ms', 'lower', (r) => r.p99),
            vsReader('server CPU per request', 'µs', 'lower', (r) => r.cpuUs),
            vsReader('PostgreSQL CPU per request', 'µs', 'lower', (r) => r.databaseCpuUs),
          )
        }
      }
    }
    return metrics
  } finally {
    await lookupFloor?.stop()
    await server.stop()
  }
}
