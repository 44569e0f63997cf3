// `npm run bench [-- --quick] [--reps N] [--only a,b] [--env KEY=VALUE]... [--database-url URL]`
// Starts MaxQ the way a user does, runs each workload several times against generated flows,
// prints a table of medians (min–max) with the floor and the overhead over it, and writes the
// results to bench/results/<timestamp>.json. See docs/performance.md. The `ticks` workload (one
// `maxq serve` and 1 or 4 `maxq tick --watch` processes) needs PostgreSQL: it is in the default
// set only with --database-url.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cleanupAll, onCleanup } from './support/cleanup.js'
import { FULL_SIZES, QUICK_SIZES, type BenchContext, type Metric } from './support/context.js'
import { Floor, startFloorServer } from './support/floor.js'
import {
  writeChainFlow,
  writeFanoutFlow,
  writeFloorStep,
  writeHelloFlow,
  writeNoopFlow,
  writeSleepFlow,
  writeStagesFlow,
} from './support/flows.js'
import { startDeployment } from './support/deployment.js'
import { startServer } from './support/server.js'
import { fmt, summarize } from './support/stats.js'
import { api } from './workloads/api.js'
import { chain } from './workloads/chain.js'
import { fanout } from './workloads/fanout.js'
import { growth } from './workloads/growth.js'
import { hello } from './workloads/hello.js'
import { idle } from './workloads/idle.js'
import { runs } from './workloads/runs.js'
import { stages } from './workloads/stages.js'
import { noop } from './workloads/noop.js'
import { pgFloor } from './workloads/pg-floor.js'
import { scale } from './workloads/scale.js'
import { scaleout } from './workloads/scaleout.js'
import { ticks } from './workloads/ticks.js'

const WORKLOADS = [
  'hello',
  'chain',
  'stages',
  'fanout',
  'runs',
  'api',
  'memory',
  'idle',
  'growth',
  'ticks',
  'scale',
  'noop',
  'scaleout',
  'pgfloor',
] as const
type WorkloadName = (typeof WORKLOADS)[number]
/** Workloads that need PostgreSQL: left out of the default set without --database-url. */
const POSTGRES_ONLY: ReadonlySet<WorkloadName> = new Set(['ticks', 'scaleout', 'pgfloor'])

interface Args {
  quick: boolean
  reps: number
  only: Set<WorkloadName>
  /** --only was given (otherwise `only` is the default set). */
  onlyGiven: boolean
  env: Record<string, string>
  databaseUrl: string | undefined
  cpuProfDir: string | undefined
}

function usage(message: string): never {
  process.stderr.write(
    `bench: ${message}\nusage: npm run bench -- [--quick] [--reps N] [--only ${WORKLOADS.join(',')}] ` +
      `[--env KEY=VALUE]... [--database-url postgres://…] [--cpu-prof DIR]\n` +
      `(ticks needs --database-url: it runs one \`maxq serve\` and 1, then 4 \`maxq tick --watch\`)\n`,
  )
  process.exit(2)
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    quick: false,
    reps: 0,
    only: new Set(WORKLOADS),
    onlyGiven: false,
    env: {},
    databaseUrl: undefined,
    cpuProfDir: undefined,
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? ''
    const [flag, inline] =
      arg.includes('=') && arg.startsWith('--')
        ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
        : [arg, undefined]
    const value = (): string => {
      const next = inline ?? argv[++i]
      if (next === undefined) usage(`${flag} needs a value`)
      return next
    }
    switch (flag) {
      case '--quick':
        args.quick = true
        break
      case '--reps': {
        const reps = Number(value())
        if (!Number.isInteger(reps) || reps < 1) usage('--reps needs a positive whole number')
        args.reps = reps
        break
      }
      case '--only': {
        const names = value().split(',')
        for (const name of names)
          if (!(WORKLOADS as readonly string[]).includes(name)) usage(`unknown workload ${name}`)
        args.only = new Set(names as WorkloadName[])
        args.onlyGiven = true
        break
      }
      case '--env': {
        const pair = value()
        const eq = pair.indexOf('=')
        if (eq <= 0) usage(`--env expects KEY=VALUE, got ${pair}`)
        args.env[pair.slice(0, eq)] = pair.slice(eq + 1)
        break
      }
      case '--database-url':
        args.databaseUrl = value()
        break
      case '--cpu-prof':
        args.cpuProfDir = resolve(value())
        break
      default:
        usage(`unknown argument ${arg}`)
    }
  }
  if (args.reps === 0) args.reps = args.quick ? 1 : 3
  return args
}

/** Takes PostgreSQL-only workloads out of the set without --database-url, with a line saying why. */
function dropPostgresOnly(args: Args): void {
  if (args.databaseUrl !== undefined) return
  for (const name of POSTGRES_ONLY) {
    if (!args.only.has(name)) continue
    args.only.delete(name)
    process.stderr.write(
      `bench: ${name} skipped: several tick processes share one database only on PostgreSQL; ` +
        `give --database-url postgres://… to run it${args.onlyGiven ? '' : ' (it is in the default set then)'}\n`,
    )
  }
}

function machine(): Record<string, string | number> {
  return {
    cores: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  }
}

function packageRoot(): string {
  // dist/bench/main.js → the package root two levels up.
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
}

interface Row {
  workload: string
  metric: string
  value: string
  floor: string
  overhead: string
  reference: string
}

function rowOf(metric: Metric): Row {
  const own = summarize(metric.samples)
  const value = `${fmt(own.median)} (${fmt(own.min)}–${fmt(own.max)}) ${metric.unit}`
  if (metric.floor === undefined || metric.floor.length === 0) {
    return {
      workload: metric.workload,
      metric: metric.metric,
      value,
      floor: '',
      overhead: '',
      reference: metric.reference ?? '',
    }
  }
  const floor = summarize(metric.floor)
  const difference = own.median - floor.median
  const overhead =
    metric.better === 'lower'
      ? `${difference < 0 ? '−' : '+'}${fmt(Math.abs(difference))} ${metric.unit}`
      : `${((own.median / floor.median) * 100).toFixed(0)}% of floor`
  return {
    workload: metric.workload,
    metric: metric.metric,
    value,
    floor: `${fmt(floor.median)} ${metric.unit}`,
    overhead,
    reference: metric.reference ?? '',
  }
}

function printTable(rows: Row[]): void {
  const header: Row = {
    workload: 'workload',
    metric: 'metric',
    value: 'median (min–max)',
    floor: 'floor',
    overhead: 'over floor',
    reference: 'reference (default | tuned)',
  }
  const keys = Object.keys(header) as (keyof Row)[]
  const widths = keys.map((key) => Math.max(...[header, ...rows].map((row) => row[key].length)))
  const line = (row: Row): string =>
    keys
      .map((key, i) => row[key].padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd()
  console.log(line(header))
  console.log(widths.map((width) => '-'.repeat(width)).join('  '))
  for (const row of rows) console.log(line(row))
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2))
  dropPostgresOnly(args)
  if (args.only.size === 0) {
    process.stderr.write('bench: nothing left to run\n')
    return
  }
  const root = packageRoot()
  const sizes = args.quick ? QUICK_SIZES : FULL_SIZES
  const info = machine()
  console.log(
    `machine: ${info.cores} cores, ${info.cpu}, ${info.memoryGiB} GiB, node ${info.node} (${info.platform}); ` +
      `database: ${args.databaseUrl === undefined ? 'SQLite (temp file)' : 'PostgreSQL (throwaway database)'}; ` +
      `${args.reps} repetition(s)${args.quick ? ', quick sizes' : ''}` +
      (Object.keys(args.env).length > 0
        ? `; env ${Object.entries(args.env)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}`
        : ''),
  )

  const work = mkdtempSync(join(tmpdir(), 'maxq-bench-flows-'))
  onCleanup(() => rmSync(work, { recursive: true, force: true }))
  const flowsRoot = join(work, 'flows')
  mkdirSync(flowsRoot)
  writeHelloFlow(flowsRoot)
  writeChainFlow(flowsRoot, sizes.chain)
  writeStagesFlow(flowsRoot, sizes.stages)
  for (const n of new Set([sizes.fanoutSmall, sizes.fanoutLarge, sizes.bigFanout, sizes.runsAtOnceSteps]))
    writeFanoutFlow(flowsRoot, n)
  writeNoopFlow(flowsRoot, sizes.noopSteps)
  writeSleepFlow(flowsRoot, sizes.sleepSteps)
  const floorServer = await startFloorServer(root)
  const floor = new Floor(floorServer, writeFloorStep(join(work, 'floor')))

  const ctx: BenchContext = {
    root,
    flowsRoot,
    reps: args.reps,
    quick: args.quick,
    sizes,
    floor,
    floorServer,
    databaseUrl: args.databaseUrl,
    env: args.env,
    cpuProfDir: args.cpuProfDir,
    startServer: (extra) =>
      startServer({ root, flowsRoot, env: args.env, databaseUrl: args.databaseUrl, ...(extra ?? {}) }),
    startDeployment: (count, env) => {
      if (args.databaseUrl === undefined) throw new Error('bench: tick processes need --database-url')
      return startDeployment({
        root,
        flowsRoot,
        env: { ...args.env, ...env },
        databaseUrl: args.databaseUrl,
        ticks: count,
      })
    },
    log: (line) => process.stderr.write(`  ${line}\n`),
  }

  const metrics: Metric[] = []
  const started = Date.now()
  const step = async (name: WorkloadName, label: string, body: () => Promise<Metric[]>): Promise<void> => {
    if (!args.only.has(name)) return
    const t0 = Date.now()
    process.stderr.write(`bench: ${label}…`)
    const result = await body()
    process.stderr.write(` ${((Date.now() - t0) / 1000).toFixed(1)} s\n`)
    metrics.push(...result)
  }
  await step('hello', 'hello', () => hello(ctx))
  await step('chain', `chain-${sizes.chain}`, () => chain(ctx))
  await step('stages', `stages-${sizes.stages}`, () => stages(ctx))
  await step('fanout', `fanout-${sizes.fanoutSmall}`, () => fanout(ctx, sizes.fanoutSmall, false))
  // With --cpu-prof only the fanout-200 server is profiled; the large fan-out is skipped.
  if ((args.only.has('fanout') || args.only.has('memory')) && args.cpuProfDir === undefined) {
    const name: WorkloadName = args.only.has('fanout') ? 'fanout' : 'memory'
    await step(name, `fanout-${sizes.fanoutLarge} + memory`, () => fanout(ctx, sizes.fanoutLarge, true))
  }
  await step('runs', `runs-${sizes.runs}`, () => runs(ctx))
  await step('api', 'api', () => api(ctx))
  await step('idle', 'idle', () => idle(ctx))
  await step('growth', 'growth', () => growth(ctx, metrics))
  await step(
    'ticks',
    `ticks (fanout-${sizes.fanoutSmall} and fanout-${sizes.fanoutLarge}, 1 and 4 tick processes)`,
    () => ticks(ctx),
  )
  await step('scale', `fanout-${sizes.bigFanout} and ${sizes.runsAtOnce}×${sizes.runsAtOnceSteps} runs`, () =>
    scale(ctx),
  )
  await step('noop', `noop-${sizes.noopSteps}`, () => noop(ctx))
  await step('scaleout', `scale-out (sleep-1 ×${sizes.sleepSteps}, 1 and 4 tick processes)`, () =>
    scaleout(ctx),
  )
  await step('pgfloor', 'PostgreSQL round trip and commit beside chain and stages', () => pgFloor(ctx))
  const seconds = (Date.now() - started) / 1000

  console.log('')
  printTable(metrics.map(rowOf))
  for (const metric of metrics)
    if (metric.note) console.log(`  ${metric.workload} ${metric.metric}: ${metric.note}`)
  console.log(`\n${args.reps} repetition(s) per figure; total ${seconds.toFixed(0)} s`)

  const resultsDir = join(root, 'bench', 'results')
  mkdirSync(resultsDir, { recursive: true })
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const file = join(resultsDir, `${stamp}.json`)
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string })
    .version
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        maxq: version,
        machine: info,
        options: {
          quick: args.quick,
          reps: args.reps,
          env: args.env,
          database: args.databaseUrl ? 'postgresql' : 'sqlite',
        },
        sizes,
        seconds,
        metrics: metrics.map((metric) => ({
          ...metric,
          summary: summarize(metric.samples),
          floorSummary: metric.floor ? summarize(metric.floor) : undefined,
        })),
      },
      null,
      2,
    )}\n`,
  )
  console.log(`results: ${file}`)
}

main()
  .catch((error: unknown) => {
    process.stderr.write(
      `\nbench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    )
    process.exitCode = 1
  })
  .finally(() => cleanupAll())
