// idle: CPU (and, on PostgreSQL, committed transactions) per minute of a server with nothing to
// do, after one finished run. Measured over a few seconds and scaled to a minute. On SQLite no
// statement counter exists without a product hook, so only CPU is reported there.

import postgres from 'postgres'
import type { BenchContext, Metric } from '../support/context.js'
import { HELLO_FLOW } from '../support/flows.js'
import { cpuSeconds } from '../support/proc.js'
import { runFlow } from '../support/runs.js'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export async function idle(ctx: BenchContext): Promise<Metric[]> {
  const server = await ctx.startServer()
  const pg =
    server.databaseUrl === undefined
      ? null
      : postgres(server.databaseUrl, { max: 1, onnotice: () => undefined })
  const commits = async (): Promise<number> => {
    if (pg === null) return 0
    const rows = await pg<
      { n: string }[]
    >`SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = current_database()`
    return Number(rows[0]?.n ?? 0)
  }
  try {
    await runFlow(server.client, HELLO_FLOW)
    await sleep(1000)
    const cpu: number[] = []
    const statements: number[] = []
    const window = ctx.sizes.idleSeconds
    for (let i = 0; i < ctx.reps; i++) {
      const cpu0 = cpuSeconds(server.pid) ?? 0
      const tx0 = await commits()
      await sleep(window * 1000)
      const cpu1 = cpuSeconds(server.pid) ?? 0
      // Our own two reads are transactions too: subtract them.
      const tx1 = await commits()
      cpu.push(((cpu1 - cpu0) * 1000 * 60) / window)
      statements.push(((tx1 - tx0 - 1) * 60) / window)
    }
    const metrics: Metric[] = [
      {
        workload: 'idle',
        metric: 'server CPU',
        unit: 'ms/min',
        better: 'lower',
        samples: cpu,
        note: `${window} s windows scaled to a minute; /proc utime+stime at 10 ms resolution`,
      },
    ]
    if (pg !== null) {
      metrics.push({
        workload: 'idle',
        metric: 'committed transactions',
        unit: '/min',
        better: 'lower',
        samples: statements,
        note: 'pg_stat_database.xact_commit delta (flushed by backends about once a second)',
      })
    }
    return metrics
  } finally {
    await pg?.end()
    await server.stop()
  }
}
