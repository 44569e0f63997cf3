// The `maxq` command. Client subcommands (cli/client/) talk to a server over HTTP and need only
// MAXQ_URL and MAXQ_API_TOKEN; server subcommands read the same configuration as `npm start`.

import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import cron from 'node-cron'
import { FlowSchedulesReader } from '../catalog/flow-schedules.js'
import { migrateLatest, migrateRollback, migrationStatus, makeMigration } from '../db/migrate.js'
import { openDialect } from '../db/open-dialect.js'
import { openStore } from '../db/open-store.js'
import { ClientError } from './client/api-client.js'
import { CLIENT_COMMANDS } from './client/commands.js'
import { completionScript } from './client/completion.js'
import { runClientCommand } from './client/run-command.js'
import {
  ConfigError,
  databaseConfig,
  describeDatabase,
  loadConfig,
  settingsHelp,
  type Config,
} from './config.js'
import { createLogger, errorText } from './log.js'
import { watchForWorkers } from './no-worker-warning.js'
import { runOneTick } from './run-one-tick.js'
import { serveWorkerMetrics } from './serve-worker-metrics.js'
import { runTransitionLog } from './run-transition-log.js'
import { startApi } from './start-api.js'
import { startWorker } from './start-worker.js'

const SERVER_COMMANDS: Record<string, { usage: string; summary: string }> = {
  serve: { usage: 'maxq serve', summary: 'run the HTTP API only (ticks run elsewhere)' },
  tick: {
    usage: "maxq tick [--watch | --cron '<expr>']",
    summary:
      'run one tick (reap, claim, spawn) and exit, for cron or a systemd timer; --watch: the tick loop\n' +
      "  until SIGINT/SIGTERM, woken by events; --cron '*/5 * * * * *': one tick on a node-cron schedule",
  },
  start: { usage: 'maxq start', summary: 'the API and the tick loop in one process (what npm start runs)' },
  migrate: {
    usage: 'maxq migrate latest|status|rollback|make <name>',
    summary: 'manage the database schema',
  },
}

// Every setting with its default, from cli/config.ts, where each is parsed.
const SERVER_ENVIRONMENT = settingsHelp()

function usage(): string {
  const line = (usage: string, summary: string) => `  ${usage}\n      ${summary.replaceAll('\n', '\n    ')}`
  return [
    'usage: maxq <command> [options]      maxq <command> --help      maxq --version',
    '',
    'talk to a MaxQ server (needs only MAXQ_URL, default http://127.0.0.1:3000, and MAXQ_API_TOKEN):',
    ...Object.values(CLIENT_COMMANDS).map((command) => line(command.usage, command.summary)),
    '  completion bash|zsh\n      print a shell completion script',
    '',
    'run MaxQ (read the server configuration below):',
    ...Object.values(SERVER_COMMANDS).map((command) => line(command.usage, command.summary)),
    '',
    SERVER_ENVIRONMENT,
  ].join('\n')
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
  return pkg.version
}

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
  const log = createLogger(config.logLevel, config.logFormat)
  const store = await openStore(databaseConfig(config), runTransitionLog(log))
  const api = await startApi(config, store, log)
  log.info(`API listening on http://${config.host}:${api.port}; state in ${describeDatabase(config)}`)
  // The tick processes log an invalid flow.json; a server without a tick says so once at start.
  for (const flow of await new FlowSchedulesReader(config.flowsRoot).readAll()) {
    if (flow.problem !== null) log.warn(`flow ${flow.flowName}: ${flow.problem}; its schedules are not run`)
  }
  // The API alone starts nothing: say so when runs wait and no worker is alive (issue 18).
  const stopWatching = watchForWorkers(store, log, config.noWorkerWarningMs)
  onSignals(async () => {
    stopWatching()
    await api.close()
    await store.close()
  })
}

async function tickCommand(config: Config, args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { watch: { type: 'boolean' }, cron: { type: 'string' } } })
  const log = createLogger(config.logLevel, config.logFormat)
  if (values.cron !== undefined && !cron.validate(values.cron)) {
    throw new Error(`--cron: ${JSON.stringify(values.cron)} is not a cron expression`)
  }
  const store = await openStore(databaseConfig(config), runTransitionLog(log))
  const once = async (): Promise<void> => {
    const report = await runOneTick(config, store, (message) => log.warn(message))
    log.info(
      `tick: ${report.scheduled} scheduled run(s), ${report.flowCalls} flow call(s), ${report.claimed} step(s) started, ${report.reaped} reaped, ${report.pruned} old run(s) deleted`,
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
  // No API answers for this process's own counters (docs/observability.md).
  const metrics = config.metricsPort === undefined ? null : await serveWorkerMetrics(config)
  if (metrics !== null) log.info(`metrics on http://${config.host}:${metrics.port}/metrics`)
  onSignals(async () => {
    await metrics?.close()
    await worker.stop()
    await store.close()
  })
}

async function startCommand(): Promise<void> {
  await import('../wrangler-free-local/main.js')
}

async function makeCommand(name: string | undefined): Promise<void> {
  for (const file of await makeMigration(name ?? '')) process.stdout.write(`created ${file}\n`)
}

async function migrateCommand(config: Config, action: string | undefined): Promise<void> {
  const dialect = await openDialect(databaseConfig(config))
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
    process.stdout.write(`${usage()}\n`)
    return
  }
  if (command === '--version' || command === '-v' || command === 'version') {
    process.stdout.write(`maxq ${version()}\n`)
    return
  }
  if (command === 'completion') {
    if (args[0] === '--help' || args[0] === '-h') {
      process.stdout.write('usage: maxq completion bash|zsh\nprint a shell completion script\n')
      return
    }
    const options = Object.fromEntries(
      Object.entries(CLIENT_COMMANDS).map(([name, cmd]) => [
        name,
        Object.keys(cmd.options).map((o) => `--${o}`),
      ]),
    )
    process.stdout.write(
      completionScript(args[0] ?? '', {
        ...options,
        serve: [],
        tick: ['--watch', '--cron'],
        start: [],
        migrate: [],
        completion: [],
      }),
    )
    return
  }
  if (command in CLIENT_COMMANDS) {
    process.exitCode = await runClientCommand(command, args, process.env)
    return
  }
  const server = SERVER_COMMANDS[command]
  if (server === undefined) throw new Error(`unknown command ${JSON.stringify(command)}; see maxq --help`)
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`usage: ${server.usage}\n${server.summary}\n${SERVER_ENVIRONMENT}\n`)
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
    case 'migrate':
      return migrateCommand(config, args[0])
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(
    error instanceof ConfigError || error instanceof ClientError
      ? `${error.message.replace(/^(?!maxq)/, 'maxq: ')}\n`
      : `maxq: ${errorText(error)}\n`,
  )
  process.exit(1)
})
