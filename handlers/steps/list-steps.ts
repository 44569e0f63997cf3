// GET /api/v1/runs/:runId/steps?stage&status&name&limit&offset&sortBy&sortOrder: the run's steps
// with status, attempts, exit code, timing and captured output, one page at a time:
// `{steps, pagination: {total, limit, offset}}`. As in the original MaxQ, a page is 100 steps by
// default, sorted by creation time ascending (a stage's steps in the order they were posted).

import { Hono } from 'hono'
import * as v from 'valibot'
import { STEP_STATUSES } from '../../db/types.js'
import type { AppEnv } from '../app-env.js'
import { apiErrorFromOutcome } from '../errors.js'
import { publicStep } from './public-step.js'
import { Identifier, RunParams, queryInteger } from '../shared-schemas.js'
import { params, query } from '../validate.js'

/** A stage may hold 10000 steps: a client pages through it with `offset`. */
export const MAX_STEPS_PAGE = 1000

export const ListStepsQuery = v.object({
  stage: v.optional(Identifier),
  status: v.optional(v.picklist(STEP_STATUSES)),
  name: v.optional(Identifier),
  limit: v.optional(queryInteger(1, MAX_STEPS_PAGE), '100'),
  offset: v.optional(queryInteger(0, Number.MAX_SAFE_INTEGER), '0'),
  sortBy: v.optional(v.picklist(['createdAt', 'startedAt', 'completedAt', 'status', 'name']), 'createdAt'),
  sortOrder: v.optional(v.picklist(['asc', 'desc']), 'asc'),
})

export const listSteps = new Hono<AppEnv>().get(
  '/runs/:runId/steps',
  params(RunParams),
  query(ListStepsQuery),
  async (c) => {
    const { runId } = c.req.valid('param')
    const listQuery = c.req.valid('query')
    const outcome = await c.get('store').listStepsPage(runId, listQuery, c.get('clock').now())
    if (!outcome.ok) throw apiErrorFromOutcome(outcome.code, outcome.details)
    const { steps, total } = outcome.value
    return c.json({
      steps: steps.map(publicStep),
      pagination: { total, limit: listQuery.limit, offset: listQuery.offset },
    })
  },
)
