// GET /health and /api/v1/health: the process is up (liveness) and the database answers.

import { Hono } from 'hono'
import type { AppEnv } from '../app-env.js'

export const getHealth = new Hono<AppEnv>().get('/health', async (c) => {
  try {
    await c.var.store.ping()
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
  return c.json({ status: 'ok', database: 'ok' })
})
