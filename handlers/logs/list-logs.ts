// GET /api/v1/runs/:runId/logs?entityType&entityId&level&limit: the run's log entries, including
// the system events MaxQ writes itself, newest first. `limit` is 100 by default, at most 1000; an
// `entityType` or `level` no entry can have is a 400, not an empty list.

import { Hono } from 'hono'
import * as v from 'valibot'
import { LOG_ENTITY_TYPES, LOG_LEVELS } from '../../db/types.js'
import type { AppEnv } from '../app-env.js'
import { apiErrorFromOutcome } from '../errors.js'
import { Identifier, RunParams, queryInteger } from '../shared-schemas.js'
import { params, query } from '../validate.js'

export const MAX_LOGS_PAGE = 1000

export const ListLogsQuery = v.object({
  entityType: v.optional(v.picklist(LOG_ENTITY_TYPES)),
  entityId: v.optional(Identifier),
  level: v.optional(v.picklist(LOG_LEVELS)),
  limit: v.optional(queryInteger(1, MAX_LOGS_PAGE), '100'),
})

export const listLogs = new Hono<AppEnv>().get(
  '/runs/:runId/logs',
  params(RunParams),
  query(ListLogsQuery),
  async (c) => {
    const { runId } = c.req.valid('param')
    const outcome = await c.get('store').listLogs(runId, c.req.valid('query'))
    if (!outcome.ok) throw apiErrorFromOutcome(outcome.code, outcome.details)
    return c.json({ logs: outcome.value })
  },
)
