// GET /api/v1/events: every run's state changes as server-sent events (docs/events.md), from about
// now or from a resume point. The API token's alone: a run token reads only its own run's stream.

import { Hono } from 'hono'
import type { AppEnv } from '../app-env.js'
import { query } from '../validate.js'
import { EventsQuery } from './run-events.js'
import { resumePoint, streamEvents } from './stream-events.js'

export const allEvents = new Hono<AppEnv>().get('/events', query(EventsQuery), (c) =>
  streamEvents(c, null, resumePoint(c, c.req.valid('query').after)),
)
