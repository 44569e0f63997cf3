// GET /api/v1/runs/:runId/events: one run's state changes as server-sent events (docs/events.md),
// starting with its whole state, ending after its final `run` event. A run token reads its own.

import { Hono } from 'hono'
import * as v from 'valibot'
import type { AppEnv } from '../app-env.js'
import { apiErrorFromOutcome } from '../errors.js'
import { RunParams } from '../shared-schemas.js'
import { params, query } from '../validate.js'
import { EVENT_ID } from './event-hub.js'
import { resumePoint, streamEvents } from './stream-events.js'

export const EventsQuery = v.object({
  /** An event id to resume after, for clients that cannot send `Last-Event-ID`. */
  after: v.optional(v.pipe(v.string(), v.regex(EVENT_ID, 'expected an event id of this stream'))),
})

export const runEvents = new Hono<AppEnv>().get(
  '/runs/:runId/events',
  params(RunParams),
  query(EventsQuery),
  async (c) => {
    const { runId } = c.req.valid('param')
    const after = resumePoint(c, c.req.valid('query').after)
    const head = await c.get('store').readRunHead(runId)
    if (head === null) throw apiErrorFromOutcome('RUN_NOT_FOUND', { runId })
    // Resumed after the run's final event: nothing more will come; 204 stops an EventSource.
    if (
      after !== null &&
      (head.status === 'completed' || head.status === 'failed') &&
      head.updatedAt < after
    ) {
      return c.body(null, 204)
    }
    return streamEvents(c, runId, after)
  },
)
