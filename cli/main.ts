// The `maxq` command. Every subcommand reads the same environment as `npm start`.

import { parseArgs } from 'node:util'
import cron from 'node-cron'
import { migrateLatest, migrateRollback, migrationStatus, makeMigration } from '../db/migrate.js'
import { openDialect } from '../db/open-dialect.js'
import { openStore } from '../db/open-store.js'
import { ConfigError, describeDatabase, loadConfig, type Config } from './config.js'
import { createLogger, errorText } from './log.js'
import { runOneTick } from './run-one-tick.js'
import { startApi } from './start-api.js'
import { startWorker } from './start-worker.js'

const USAGE = `usage: maxq <command>
  serve                 run the HTTP API only (ticks run elsewhere)
  tick                  run one tick (claim, spawn, reap) and exit: for cron or a systemd timer
  tick --watch          run the tick loop until SIGINT/SIGTERM, woken by events
  tick --cron EXPR      run one tick on a node-cron schedule (e.g. '*/5 * * * * *') until stopped
  start                 API and tick loop in one process (what npm start runs)
  trigger <flow> [--input JSON] [--metadata JSON]
                        start a run through the API and print it
  watch <runId>         print a run's status changes until it ends; exit 0 if completed
  migrate latest|status|rollback|make <name>
                        manage the database schema
environment: MAXQ_FLOWS_ROOT, MAXQ_DATABASE_URL or MAXQ_SQLITE_PATH, MAXQ_PORT, MAXQ_HOST,
  MAXQ_SCHEDULER_INTERVAL_MS, MAXQ_SCHEDULER_BATCH_SIZE, MAXQ_MAX_CONCURRENT_STEPS,
  MAXQ_ABORT_GRACE_MS, MAXQ_LEASE_MS, MAXQ_API_URL, MAXQ_API_TOKEN, MAXQ_PASSTHROUGH_ENV, LOG_LEVEL`

const database = (config: Config) => ({ databaseUrl: config.databaseUrl, sqlitePath: config.sqlitePath })

function onSignals(stop: () => Promise<void>): void {
  let stopping = false
  const handler = () => {
    if (stopping) return
    stopping = true
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
}

async function serveCommand(config: Config): Promise<void> {
  const log = createLogger(config.logLevel)
  const store = await openStore(database(config))
  const api = await startApi(config, store, log)
  log.info(`API listening on http://${config.host}:${api.port}; state in ${describeDatabase(config)}`)
  onSignals(async () => {
    await api.close()
    await store.close()
  })
}

async function tickCommand(config: Config, args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { watch: { type: 'boolean' }, cron: { type: 'string' } } })
  const log = createLogger(config.logLevel)
  if (values.cron !== undefined && !cron.validate(values.cron)) {
    throw new Error(`--cron: ${JSON.stringify(values.cron)} is not a cron expression`)
  }
  const store = await openStore(database(config))
  const once = async (): Promise<void> => {
    const report = await runOneTick(config, store)
    log.info(
      `tick: ${report.flowCalls} flow call(s), ${report.claimed} step(s) started, ${report.reaped} reaped`,
    )
  }
  if (values.cron !== undefined) {
    // node-cron as the timer: each firing is exactly what a crontab line would run, in-process.
    const task = cron.schedule(values.cron, once, { noOverlap: true })
    log.info(`one tick on schedule ${JSON.stringify(values.cron)}; state in ${describeDatabase(config)}`)
    onSignals(async () => {
      await task.destroy()
      await store.close()
    })
    return
  }
  if (!values.watch) {
    await once()
    await store.close()
    return
  }
  const worker = await startWorker(config, store, log)
  log.info(
    `tick loop ${config.workerId} reporting to ${config.apiBase}; state in ${describeDatabase(config)}; ` +
      `scripts started with ${config.spawner}`,
  )
  onSignals(async () => {
    await worker.stop()
    await store.close()
  })
}

async function startCommand(): Promise<void> {
  await import('../wrangler-free-local/main.js')
}

async function api(config: Config, path: string, init?: RequestInit): Promise<unknown> {
  const response = await fetch(`${config.apiBase}${path}`, {
    ...init,
    headers: {
      'content-type': 'application/json',
      ...(config.apiToken === undefined ? {} : { authorization: `Bearer ${config.apiToken}` }),
    },
  })
  const body: unknown = await response.json()
  if (!response.ok) throw new Error(`${response.status} ${JSON.stringify(body)}`)
  return body
}

function json(text: string | undefined, name: string): unknown {
  if (text === undefined) return undefined
  try {
    return JSON.parse(text)
  } catch {
    throw new Error(`${name} is not valid JSON`)
  }
}

async function triggerCommand(config: Config, args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { input: { type: 'string' }, metadata: { type: 'string' } },
  })
  const flow = positionals[0]
  if (flow === undefined) throw new Error('trigger needs a flow name')
  const body = { input: json(values.input, '--input'), metadata: json(values.metadata, '--metadata') }
  const run = await api(config, `/flows/${encodeURIComponent(flow)}/runs`, {
    method: 'POST',
    body: JSON.stringify(body),
  })
  process.stdout.write(`${JSON.stringify(run, null, 2)}\n`)
}

interface WatchedRun {
  status: string
  error: unknown
  stages: Array<{ name: string; status: string }>
}

interface WatchedLog {
  id: string | number
  level: string
  entityType: string
  entityId: string | null
  message: string
  createdAt: number
}

async function watchCommand(config: Config, runId: string | undefined): Promise<void> {
  if (runId === undefined) throw new Error('watch needs a run id')
  const path = `/runs/${encodeURIComponent(runId)}`
  let last = ''
  const shown = new Set<string>()
  for (;;) {
    const run = (await api(config, path)) as WatchedRun
    const line = `${run.status} ${run.stages.map((stage) => `${stage.name}:${stage.status}`).join(' ')}`
    if (line !== last) process.stdout.write(`${new Date().toISOString()} ${line}\n`)
    last = line
    // Warnings and errors say why: a refused stage post, a failed step, a flow that exited non-zero.
    const { logs } = (await api(config, `${path}/logs?limit=1000`)) as { logs: WatchedLog[] }
    for (const log of [...logs].sort((a, b) => a.createdAt - b.createdAt || Number(a.id) - Number(b.id))) {
      if ((log.level !== 'warn' && log.level !== 'error') || shown.has(String(log.id))) continue
      shown.add(String(log.id))
      const who = log.entityId === null ? log.entityType : `${log.entityType} ${log.entityId}`
      process.stdout.write(
        `${new Date(log.createdAt).toISOString()} ${log.level.toUpperCase()} ${who}: ${log.message}\n`,
      )
    }
    if (run.status === 'completed') return
    if (run.status === 'failed') {
      if (run.error !== null) process.stdout.write(`error: ${JSON.stringify(run.error)}\n`)
      process.exitCode = 1
      return
    }
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}

async function makeCommand(name: string | undefined): Promise<void> {
  for (const file of await makeMigration(name ?? '')) process.stdout.write(`created ${file}\n`)
}

async function migrateCommand(config: Config, action: string | undefined): Promise<void> {
  const dialect = await openDialect(database(config))
  try {
    if (action === 'latest') {
      const applied = await migrateLatest(dialect)
      process.stdout.write(applied.length ? `applied ${applied.join(', ')}\n` : 'already up to date\n')
    } else if (action === 'status') {
      for (const row of await migrationStatus(dialect)) {
        const when = row.appliedAt === null ? 'pending' : `applied ${new Date(row.appliedAt).toISOString()}`
        process.stdout.write(`${row.name}  ${when}\n`)
      }
    } else if (action === 'rollback') {
      const name = await migrateRollback(dialect)
      process.stdout.write(name ? `rolled back ${name}\n` : 'nothing to roll back\n')
    } else {
      throw new Error('migrate needs latest, status, rollback or make <name>')
    }
  } finally {
    await dialect.close()
  }
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...args] = argv
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`)
    return
  }
  if (command === 'start') return startCommand()
  if (command === 'migrate' && args[0] === 'make') return makeCommand(args[1])
  const config = loadConfig()
  switch (command) {
    case 'serve':
      return serveCommand(config)
    case 'tick':
      return tickCommand(config, args)
    case 'trigger':
      return triggerCommand(config, args)
    case 'watch':
      return watchCommand(config, args[0])
    case 'migrate':
      return migrateCommand(config, args[0])
    default:
      throw new Error(`unknown command ${JSON.stringify(command)}\n${USAGE}`)
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(error instanceof ConfigError ? `${error.message}\n` : `maxq: ${errorText(error)}\n`)
  process.exit(1)
})
