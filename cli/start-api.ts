import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { flowCatalog } from '../catalog/flow-catalog.js'
import type { Store } from '../db/store.js'
import { createApp } from '../handlers/app.js'
import type { EventHub } from '../handlers/events/event-hub.js'
import { answerClientError } from './answer-client-error.js'
import { exposureWarning, type Config } from './config.js'
import type { Logger } from './log.js'

export interface RunningApi {
  app: ReturnType<typeof createApp>
  port: number
  close(): Promise<void>
}

/** The Hono router on @hono/node-server. Resolves once the port is listening. */
export async function startApi(
  config: Config,
  store: Store,
  log: Logger,
  wake: (event?: 'work' | 'abort') => void = () => undefined,
  /** The event streams' poller, when the caller wakes it too (the local runner's tick loop). */
  events?: EventHub,
): Promise<RunningApi> {
  const app = createApp({
    store,
    ...(events === undefined ? {} : { events }),
    catalog: flowCatalog(config.flowsRoot),
    wake,
    logger: (line) => log.error(line),
    ...(config.logLevel === 'debug' ? { requestLog: (line: string) => log.debug(line) } : {}),
    apiToken: config.apiToken,
    metricsPublic: config.metricsPublic,
    maxBodyBytes: config.maxBodyBytes,
    maxFieldsBytes: config.maxFieldsBytes,
    retryDefaults: config.retryDefaults,
  })
  return new Promise((resolve, reject) => {
    const server = serve(
      // The app throws away bodies it does not read itself (handlers/read-body.ts), for longer than
      // the adapter's own clean-up would (500 ms), so a client still uploading gets its 413.
      { fetch: app.fetch, port: config.port, hostname: config.host, autoCleanupIncoming: false },
      (info: AddressInfo) => {
        const warning = exposureWarning({ ...config, port: info.port })
        if (warning !== null) log.warn(warning)
        resolve({
          app,
          port: info.port,
          close: () =>
            new Promise<void>((done) => {
              server.close(() => done())
              // Idle keep-alive connections would hold close() open.
              if ('closeAllConnections' in server) server.closeAllConnections()
            }),
        })
      },
    )
    server.once('error', reject)
    // Without a listener Node answers `Expect: 100-continue` at once; with this one the app says
    // "continue" only when it reads the body (handlers/read-body.ts), so a body it refuses by its
    // Content-Length or Content-Type is never uploaded.
    server.on('checkContinue', (req, res) => server.emit('request', req, res))
    server.on('clientError', answerClientError)
  })
}
