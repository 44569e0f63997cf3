// GET /health and /api/v1/health: the process is up (liveness), the database answers, and which
// workers are alive (the `workers` table, db/queries/workers.ts). Both paths are open to anyone, so
// where MAXQ_API_TOKEN is set a worker's id, host and pid are shown only to a caller presenting it
// (docs/security.md); counts, kinds and slots are shown to all.

import { Hono } from 'hono'
import type { AppEnv } from '../app-env.js'

export const getHealth = new Hono<AppEnv>().get('/health', async (c) => {
  let workers
  try {
    await c.get('store').ping()
    workers = await c.get('store').listLiveWorkers(c.get('clock').now())
  } catch (err) {
    // 503 so load balancers take this instance out; the body keeps the error shape as well.
    return c.json(
      {
        status: 'error',
        database: 'error',
        error: 'Database is not reachable',
        code: 'DATABASE_UNAVAILABLE',
        details: { reason: err instanceof Error ? err.message : String(err) },
      },
      503,
    )
  }
  const showHosts = !c.get('apiTokenRequired') || c.get('caller').kind === 'admin'
  return c.json({
    status: 'ok',
    database: 'ok',
    workers: {
      live: workers.length,
      running: workers.reduce((sum, w) => sum + w.running, 0),
      limit: workers.reduce((sum, w) => sum + w.limit, 0),
      list: workers.map((w) => ({
        // The id is `host:pid:…` by default, so it goes with them.
        ...(showHosts ? { id: w.id, host: w.host, pid: w.pid } : {}),
        kind: w.kind,
        startedAt: w.startedAt,
        seenAt: w.seenAt,
        running: w.running,
        limit: w.limit,
      })),
    },
  })
})
