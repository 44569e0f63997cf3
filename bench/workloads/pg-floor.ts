// pgfloor: PostgreSQL's own floor beside MaxQ's paths on it, in the same run. It measures the
// round trip (`SELECT 1`) and the commit (one autocommitted INSERT into a logged table, its round
// trip included) on one connection, then chain-N and stages-N on the local runner over the same
// server with their bash+curl floors. The commits and round trips each path waits for are the ones
// docs/lifecycle-sequence.md lists; the commits are checked against pg_stat_database's count. The
// target: MaxQ's overhead per hop and per stage within 2 ms of what those waits alone cost.

import { join } from 'node:path'
import postgres from 'postgres'
import type { BenchContext, Metric } from '../support/context.js'
import { chainFlowName, HELLO_FLOW, stagesFlowName } from '../support/flows.js'
import { runFlow } from '../support/runs.js'
import { fmt, median } from '../support/stats.js'

/**
 * What each critical path waits for on PostgreSQL (docs/lifecycle-sequence.md): a chain hop is the
 * step's field post (one commit) and its exit, which claims the next step in the same transaction
 * (the run lock, then one statement of writable CTEs: one commit, one more round trip). A stage adds
 * the flow call: its claim by the exit that ends the stage, its stage post (two round trips, one
 * commit) and its own exit.
 */
const PATHS = {
  hop: { commits: 2, extraRoundTrips: 1 },
  stage: { commits: 3, extraRoundTrips: 2 },
} as const

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

async function timeEach(samples: number, body: () => Promise<unknown>): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now()
    await body()
    times.push(performance.now() - t0)
  }
  return median(times)
}

export async function pgFloor(ctx: BenchContext): Promise<Metric[]> {
  const server = await ctx.startServer()
  const url = server.databaseUrl
  if (url === undefined) throw new Error('bench: pgfloor needs --database-url')
  const pg = postgres(url, { max: 1, onnotice: () => undefined })
  const commits = async (): Promise<number> => {
    const rows = await pg<{ n: string }[]>`
      SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = current_database()`
    return Number(rows[0]?.n ?? 0)
  }
  const { chain: chainN, stages: stagesN, pgFloorSamples: samples } = ctx.sizes
  try {
    await pg`CREATE TABLE IF NOT EXISTS bench_commit (n integer)`
    const rtt: number[] = []
    const commit: number[] = []
    const hop: number[] = []
    const hopFloor: number[] = []
    const stage: number[] = []
    const stageFloor: number[] = []
    const commitsPerHop: number[] = []
    await runFlow(server.client, HELLO_FLOW)
    for (let i = 0; i < ctx.reps; i++) {
      rtt.push(await timeEach(samples, () => pg`SELECT 1`))
      commit.push(await timeEach(samples, () => pg`INSERT INTO bench_commit VALUES (1)`))
      // The statistics are flushed by each backend about once a second.
      await sleep(1100)
      const tx0 = await commits()
      hop.push((await runFlow(server.client, chainFlowName(chainN))).ms / chainN)
      await sleep(1100)
      commitsPerHop.push((await commits()) - tx0)
      hopFloor.push(
        (await ctx.floor.chain(join(ctx.flowsRoot, chainFlowName(chainN), 'flow.sh'), chainN)) / chainN,
      )
      stage.push((await runFlow(server.client, stagesFlowName(stagesN))).ms / stagesN)
      stageFloor.push(
        (await ctx.floor.stages(join(ctx.flowsRoot, stagesFlowName(stagesN), 'flow.sh'), stagesN)) / stagesN,
      )
    }
    const predicted = (path: keyof typeof PATHS, i: number): number =>
      PATHS[path].commits * (commit[i] ?? Number.NaN) + PATHS[path].extraRoundTrips * (rtt[i] ?? Number.NaN)
    const excess = (own: number[], floor: number[], path: keyof typeof PATHS): number[] =>
      own.map((value, i) => value - (floor[i] ?? Number.NaN) - predicted(path, i))
    const waits = (path: keyof typeof PATHS): string =>
      `${PATHS[path].commits} commits + ${PATHS[path].extraRoundTrips} round trips = ${fmt(
        median(rtt.map((_, i) => predicted(path, i))),
      )} ms`
    return [
      {
        workload: 'pg floor',
        metric: 'round trip (SELECT 1)',
        unit: 'ms',
        better: 'lower',
        samples: rtt,
      },
      {
        workload: 'pg floor',
        metric: 'commit (autocommitted INSERT)',
        unit: 'ms',
        better: 'lower',
        samples: commit,
      },
      {
        workload: `pg chain-${chainN}`,
        metric: 'per hop',
        unit: 'ms',
        better: 'lower',
        samples: hop,
        floor: hopFloor,
        note: `waits ${waits('hop')}; transactions committed per hop (all processes): ${commitsPerHop
          .map((n) => fmt(n / chainN))
          .join(', ')}`,
      },
      {
        workload: `pg chain-${chainN}`,
        metric: 'over floor beyond the waits (target ≤ 2)',
        unit: 'ms',
        better: 'lower',
        samples: excess(hop, hopFloor, 'hop'),
      },
      {
        workload: `pg stages-${stagesN}`,
        metric: 'per stage',
        unit: 'ms',
        better: 'lower',
        samples: stage,
        floor: stageFloor,
        note: `waits ${waits('stage')}`,
      },
      {
        workload: `pg stages-${stagesN}`,
        metric: 'over floor beyond the waits (target ≤ 2)',
        unit: 'ms',
        better: 'lower',
        samples: excess(stage, stageFloor, 'stage'),
      },
    ]
  } finally {
    await pg.end()
    await server.stop()
  }
}
