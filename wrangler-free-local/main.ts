// `npm start`: MaxQ in one process for a laptop. The router on @hono/node-server, the tick loop
// in-process, embedded SQLite by default (./data/maxq.db) and ./examples as the flows root.
// The supervisor records exits in the store directly, so no request is spent on MaxQ's own
// traffic; scripts reach the API over HTTP like anywhere else.

import { apiBaseFrom, ConfigError, databaseConfig, describeDatabase, loadConfig } from '../cli/config.js'
import { createLogger, errorText } from '../cli/log.js'
import { runTransitionLog } from '../cli/run-transition-log.js'
import { startApi } from '../cli/start-api.js'
import { startWorker, type RunningWorker } from '../cli/start-worker.js'
import { tellChanges } from '../cli/tell-changes.js'
import { openStore } from '../db/open-store.js'
import { EventHub } from '../handlers/events/event-hub.js'

async function main(): Promise<void> {
  // A laptop tool: only this machine may call it unless MAXQ_HOST says otherwise.
  const config = loadConfig(process.env, { host: '127.0.0.1' })
  const log = createLogger(config.logLevel, config.logFormat)
  const store = await openStore(databaseConfig(config), runTransitionLog(log))
  let worker: RunningWorker | null = null
  // The tick loop's own writes wake the event streams at once, as the API's writes do.
  const events = new EventHub(store, { logger: (line) => log.error(line) })
  const api = await startApi(config, store, log, (event) => worker?.wake(event), events)
  // MAXQ_PORT=0 lets the OS pick the port: scripts must be given the one actually bound.
  const bound = { ...config, port: api.port, apiBase: apiBaseFrom(process.env, config.host, api.port) }
  worker = await startWorker(
    bound,
    tellChanges(store, () => events.wake()),
    log,
    'local-runner',
  )
  log.info(`listening on http://${config.host}:${api.port} (API ${bound.apiBase})`)
  log.info(
    `flows from ${config.flowsRoot}; state in ${describeDatabase(config)}; scripts started with ${config.spawner}`,
  )

  let stopping = false
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return
    stopping = true
    log.info(`${signal}: shutting down`)
    await worker?.stop()
    await api.close()
    await store.close()
    process.exit(0)
  }
  process.on('SIGINT', () => void shutdown('SIGINT'))
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
}

main().catch((error: unknown) => {
  process.stderr.write(error instanceof ConfigError ? `${error.message}\n` : `maxq: ${errorText(error)}\n`)
  process.exit(1)
})
