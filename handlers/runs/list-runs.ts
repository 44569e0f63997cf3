// GET /api/v1/runs: runs filtered by flow and status, newest first unless asked otherwise. As in
// the original MaxQ, a page is 20 runs by default and at most 100.

import { Hono } from 'hono'
import * as v from 'valibot'
import { RUN_STATUSES } from '../../db/types.js'
import type { AppEnv } from '../app-env.js'
import { Identifier, queryInteger } from '../shared-schemas.js'
import { query } from '../validate.js'

export const MAX_RUNS_PAGE = 100

export const ListRunsQuery = v.object({
  flowName: v.optional(Identifier),
  status: v.optional(v.picklist(RUN_STATUSES)),
  limit: v.optional(queryInteger(1, MAX_RUNS_PAGE), '20'),
  offset: v.optional(queryInteger(0, Number.MAX_SAFE_INTEGER), '0'),
  sortBy: v.optional(
    v.picklist(['createdAt', 'startedAt', 'completedAt', 'status', 'flowName']),
    'createdAt',
  ),
  sortOrder: v.optional(v.picklist(['asc', 'desc']), 'desc'),
})

export const listRuns = new Hono<AppEnv>().get('/runs', query(ListRunsQuery), async (c) => {
  const listQuery = c.req.valid('query')
  const { runs, total } = await c.get('store').listRuns(listQuery)
  return c.json({ runs, pagination: { total, limit: listQuery.limit, offset: listQuery.offset } })
})
