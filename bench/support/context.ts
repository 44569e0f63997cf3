// What every workload gets, and what it answers.

import type { RunningDeployment } from './deployment.js'
import type { Floor, FloorServer } from './floor.js'
import type { RunningServer, ServerOptions } from './server.js'

export interface Sizes {
  chain: number
  stages: number
  fanoutSmall: number
  fanoutLarge: number
  runs: number
  apiSeconds: number
  apiMaxRequests: number
  idleSeconds: number
  growthFinishedSteps: number
  growthBlockedSteps: number
  /** Steps per seeded finished run (history: 1,000,000 steps in 100,000 runs). */
  growthStepsPerRun: number
  bigFanout: number
  runsAtOnce: number
  runsAtOnceSteps: number
  noopSteps: number
  /** Steps of one second each, for the scale-out workload. */
  sleepSteps: number
  pgFloorSamples: number
}

export const FULL_SIZES: Sizes = {
  chain: 30,
  stages: 20,
  fanoutSmall: 200,
  fanoutLarge: 1000,
  runs: 20,
  apiSeconds: 3,
  apiMaxRequests: 200_000,
  idleSeconds: 10,
  growthFinishedSteps: 1_000_000,
  growthBlockedSteps: 10_000,
  growthStepsPerRun: 10,
  bigFanout: 10_000,
  runsAtOnce: 100,
  runsAtOnceSteps: 100,
  noopSteps: 2_000,
  sleepSteps: 400,
  pgFloorSamples: 300,
}

export const QUICK_SIZES: Sizes = {
  chain: 5,
  stages: 3,
  fanoutSmall: 30,
  fanoutLarge: 50,
  runs: 3,
  apiSeconds: 1,
  apiMaxRequests: 20_000,
  idleSeconds: 2,
  growthFinishedSteps: 2_000,
  growthBlockedSteps: 200,
  growthStepsPerRun: 10,
  bigFanout: 500,
  runsAtOnce: 10,
  runsAtOnceSteps: 20,
  noopSteps: 100,
  sleepSteps: 40,
  pgFloorSamples: 50,
}

export interface BenchContext {
  root: string
  flowsRoot: string
  reps: number
  quick: boolean
  sizes: Sizes
  floor: Floor
  floorServer: FloorServer
  /** Starts a MaxQ server with the bench's settings (a fresh database unless sqlitePath or database is given). */
  startServer(
    extra?: Partial<Pick<ServerOptions, 'sqlitePath' | 'database' | 'nodeArgs'>>,
  ): Promise<RunningServer>
  /**
   * Starts MaxQ the multi-process way: one `maxq serve` and `ticks` × `maxq tick --watch`, on a
   * fresh database. PostgreSQL only (databaseUrl set).
   */
  startDeployment(ticks: number, env?: Record<string, string>): Promise<RunningDeployment>
  databaseUrl: string | undefined
  /** The --env settings every MaxQ process gets. */
  env: Record<string, string>
  /** --cpu-prof DIR: the fanout-200 server runs with node --cpu-prof into this directory. */
  cpuProfDir: string | undefined
  log(line: string): void
}

export interface Metric {
  workload: string
  metric: string
  unit: string
  better: 'lower' | 'higher'
  samples: number[]
  /** Samples of the same figure with no orchestrator. */
  floor?: number[]
  /** The original implementation: default | tuned configuration. */
  reference?: string
  note?: string
}
