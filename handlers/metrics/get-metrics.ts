// GET /metrics: Prometheus text format. What this process measured (metrics/process-metrics.ts,
// with a `process` label) and what the database holds now (database-metrics.ts). Behind the API's
// authentication unless MAXQ_METRICS_PUBLIC=1 (handlers/auth/authenticate.ts); docs/observability.md
// lists the metrics.

import { Hono } from 'hono'
import { processRegistry } from '../../metrics/process-metrics.js'
import type { AppEnv } from '../app-env.js'
import { databaseMetrics } from './database-metrics.js'

export const getMetrics = new Hono<AppEnv>().get('/metrics', async (c) => {
  const database = await databaseMetrics(c.get('store'), c.get('clock').now())
  // Two expositions with no name in common, one after the other, are one exposition.
  const text = (await processRegistry.metrics()) + (await database.metrics())
  return c.body(text, 200, { 'Content-Type': processRegistry.contentType })
})
