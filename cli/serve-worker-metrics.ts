// MAXQ_METRICS_PORT: a `maxq tick --watch` process serves its own metrics (ticks, claims, reaped
// leases, the attempt ends its supervisor recorded: metrics/process-metrics.ts) on GET /metrics,
// since no API answers for it. The database's counts are the API's to serve, not repeated here.
// The same rule as the API's /metrics: MAXQ_API_TOKEN as a bearer token unless MAXQ_METRICS_PUBLIC.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { processRegistry } from '../metrics/process-metrics.js'
import { sameSecret } from '../security/run-token.js'
import type { Config } from './config.js'

export interface WorkerMetricsServer {
  port: number
  close(): Promise<void>
}

function answerError(res: ServerResponse, status: number, code: string, error: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json' })
  res.end(JSON.stringify({ error, code, details: null }))
}

function allowed(req: IncomingMessage, config: Pick<Config, 'apiToken' | 'metricsPublic'>): boolean {
  if (config.metricsPublic || config.apiToken === undefined) return true
  const token = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? '')?.[1]
  return token !== undefined && sameSecret(token, config.apiToken)
}

export async function serveWorkerMetrics(
  config: Pick<Config, 'host' | 'metricsPort' | 'apiToken' | 'metricsPublic'>,
): Promise<WorkerMetricsServer> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      return answerError(res, 404, 'NOT_FOUND', 'This port serves GET /metrics only')
    }
    if (!allowed(req, config)) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="maxq"')
      return answerError(
        res,
        401,
        'UNAUTHORIZED',
        'GET /metrics needs "Authorization: Bearer <MAXQ_API_TOKEN>"',
      )
    }
    processRegistry.metrics().then(
      (text) => {
        res.writeHead(200, { 'Content-Type': processRegistry.contentType })
        res.end(text)
      },
      () => answerError(res, 500, 'INTERNAL_ERROR', 'Internal server error'),
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(config.metricsPort, config.host, () => resolve())
  })
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done())
        server.closeAllConnections()
      }),
  }
}
