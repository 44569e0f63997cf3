// Counts every request this app answers (metrics/process-metrics.ts) by its route pattern, so
// `/api/v1/runs/:runId` is one series however many runs there are. A request no route matched
// (a 404 from notFound) is counted as `unmatched`.

import { createMiddleware } from 'hono/factory'
import { matchedRoutes } from 'hono/route'
import { recordHttpRequest } from '../../metrics/process-metrics.js'
import type { AppEnv } from '../app-env.js'

export const countRequests = createMiddleware<AppEnv>(async (c, next) => {
  const started = performance.now()
  await next()
  // Middlewares are registered for every method ('ALL'); the endpoint is the last one with a method.
  const endpoint = matchedRoutes(c)
    .filter((route) => route.method !== 'ALL')
    .at(-1)
  recordHttpRequest(
    c.req.method,
    endpoint?.path ?? 'unmatched',
    c.res.status,
    (performance.now() - started) / 1000,
  )
})
