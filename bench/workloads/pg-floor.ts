// pgfloor: PostgreSQL's own floor beside MaxQ's paths on it, in the same run. It measures the
// round trip (`SELECT 1`) and the commit (one autocommitted INSERT into a logged table, its round
// trip included) on one connection, back to back and after an idle gap as long as a step's script,
// then chain-N and stages-N on the local runner over the same server with their bash+curl floors.
// The commits and round trips each path waits for are the ones docs/lifecycle-sequence.md lists;
// the commits are checked against pg_stat_database's count. The target: MaxQ's overhead per hop
// and per stage within 2 ms of what those waits alone cost.
//
// Why the idle gap: a hop's first contact with the database comes after its script ran for tens of
// milliseconds with the database idle, and waking an idle PostgreSQL backend (and this host's idle
// CPUs) costs more than a round trip in a tight loop: on the 2-core VM these figures come from, a
// round trip took 0.2 ms back to back and 0.8 ms after 30 ms idle, a commit 0.36 and 1.6 ms.

import { join } from 'node:path'
import postgres from 'postgres'
import type { BenchContext, Metric } from '../support/context.js'
import { chainFlowName, HELLO_FLOW, stagesFlowName } from '../support/flows.js'
import { runFlow } from '../support/runs.js'
import { fmt, median } from '../support/stats.js'

/**
 * What each critical path waits for on PostgreSQL (docs/lifecycle-sequence.md): a chain hop is the
 * step's field post (one commit) and its exit, which claims the next step in the same transaction
 * and, with a sibling of its stage still open, sends it all at once (the run lock, one statement of
 * writable CTEs, the claim, COMMIT: one commit). A stage of one step is that step's field post and
 * exit (the run lock and its statement, then the commit claiming the callback), the flow's stage
 * post (two round trips, one commit) and the worker's claim of the step it released (one
 * statement, one commit). The flow's own exit is not waited for: the step starts while the flow
 * script ends.
 */
const PATHS = {
  // The field post (after the script's run), then the exit's one flight (after curl and bash
  // exit, a few idle milliseconds).
  hop: { idle: { commits: 2, roundTrips: 0 }, hot: { commits: 0, roundTrips: 0 } },
  // The field post; the exit's first flight, then its commit (claiming the callback); the stage
  // post's first flight (after the flow script started), then its commit; the worker's claim,
  // right behind that commit (counted back to back, though it goes out on another connection).
  stage: { idle: { commits: 1, roundTrips: 2 }, hot: { commits: 3, roundTrips: 0 } },
} as const

/** About a step script's run on the floor (bash and one curl): the database is idle that long. */
const IDLE_GAP_MS = 25

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

async function timeEach(samples: number, body: () => Promise<unknown>, idleMs = 0): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < samples; i++) {
    if (idleMs > 0) await sleep(idleMs)
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
    const idleRtt: number[] = []
    const idleCommit: number[] = []
    const wake: number[] = []
    const idleWake: number[] = []
    const hop: number[] = []
    const hopFloor: number[] = []
    const stage: number[] = []
    const stageFloor: number[] = []
    const commitsPerHop: number[] = []
    await runFlow(server.client, HELLO_FLOW)
    for (let i = 0; i < ctx.reps; i++) {
      rtt.push(await timeEach(samples, () => pg`SELECT 1`))
      commit.push(await timeEach(samples, () => pg`INSERT INTO bench_commit VALUES (1)`))
      idleRtt.push(await timeEach(samples, () => pg`SELECT 1`, IDLE_GAP_MS))
      idleCommit.push(await timeEach(samples, () => pg`INSERT INTO bench_commit VALUES (1)`, IDLE_GAP_MS))
      // No database at all: what any hand-off to another idle process and back costs on this host.
      const ping = () => ctx.floorServer.client.send('GET', '/ping')
      for (let warm = 0; warm < 200; warm++) await ping()
      wake.push(await timeEach(samples, ping))
      idleWake.push(await timeEach(samples, ping, IDLE_GAP_MS))
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
    const at = (values: number[], i: number): number => values[i] ?? Number.NaN
    const predicted = (path: keyof typeof PATHS, i: number): number => {
      const { idle, hot } = PATHS[path]
      return (
        idle.commits * at(idleCommit, i) +
        idle.roundTrips * at(idleRtt, i) +
        hot.commits * at(commit, i) +
        hot.roundTrips * at(rtt, i)
      )
    }
    const excess = (own: number[], floor: number[], path: keyof typeof PATHS): number[] =>
      own.map((value, i) => value - at(floor, i) - predicted(path, i))
    const waits = (path: keyof typeof PATHS): string => {
      const { idle, hot } = PATHS[path]
      return (
        `${idle.commits} commit(s) + ${idle.roundTrips} round trip(s) after idle, ${hot.commits} commit(s) + ` +
        `${hot.roundTrips} round trip(s) back to back = ${fmt(median(rtt.map((_, i) => predicted(path, i))))} ms`
      )
    }
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
        workload: 'pg floor',
        metric: `round trip after ${IDLE_GAP_MS} ms idle`,
        unit: 'ms',
        better: 'lower',
        samples: idleRtt,
      },
      {
        workload: 'pg floor',
        metric: `commit after ${IDLE_GAP_MS} ms idle`,
        unit: 'ms',
        better: 'lower',
        samples: idleCommit,
      },
      {
        workload: 'host floor',
        metric: 'HTTP round trip to another Node process',
        unit: 'ms',
        better: 'lower',
        samples: wake,
      },
      {
        workload: 'host floor',
        metric: `the same after ${IDLE_GAP_MS} ms idle`,
        unit: 'ms',
        better: 'lower',
        samples: idleWake,
        note: 'every hand-off between processes after idle pays this, with or without a database',
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
