// GET /ui/runs/:runId/events: the run's event stream (GET /api/v1/runs/{run}/events, docs/events.md)
// for the browser, whose EventSource cannot send the API token: the session cookie stands for it.
// The API's answer is passed on as it comes, status and all; a 404 (no such run, or an API without
// the stream) tells the client script to poll instead.

import { Hono } from 'hono'
import type { UiEnv } from '../ui-env.js'

export const runEvents = new Hono<UiEnv>().get('/ui/runs/:runId/events', async (c) => {
  const lastEventId = c.req.header('last-event-id')
  const after = c.req.query('after')
  const query = after === undefined ? '' : `?after=${encodeURIComponent(after)}`
  const res = await c.get('apiRaw')(
    `/runs/${encodeURIComponent(c.req.param('runId'))}/events${query}`,
    lastEventId === undefined ? {} : { 'last-event-id': lastEventId },
  )
  // A copy: the security headers are added to the answer, and the API's own may be immutable.
  return new Response(res.body, { status: res.status, headers: new Headers(res.headers) })
})
