// GET /api/v1/runs/:runId/fields?stepId=a,b&fieldName=x: what steps posted. `stepId` may list
// several ids, comma-separated, repeated, or both. An unknown step id is not an error; it simply
// matches nothing.

import { Hono } from 'hono'
import * as v from 'valibot'
import type { AppEnv } from '../app-env.js'
import { apiErrorFromOutcome } from '../errors.js'
import { RunParams } from '../shared-schemas.js'
import { params, query } from '../validate.js'

const splitIds = (value: string | string[]): string[] =>
  [value]
    .flat()
    .flatMap((part) => part.split(','))
    .map((id) => id.trim())
    .filter((id) => id !== '')

export const QueryFieldsQuery = v.object({
  // `?stepId=` with nothing in it is rejected rather than read as "all steps": it is usually a
  // shell variable that was empty.
  stepId: v.optional(
    v.pipe(
      v.union([v.string(), v.array(v.string())]),
      v.transform(splitIds),
      v.nonEmpty('must name at least one step'),
    ),
  ),
  fieldName: v.optional(v.pipe(v.string(), v.nonEmpty('must not be empty'), v.maxLength(256))),
})

export const queryFields = new Hono<AppEnv>().get(
  '/runs/:runId/fields',
  params(RunParams),
  query(QueryFieldsQuery),
  async (c) => {
    const { runId } = c.req.valid('param')
    const { stepId, fieldName } = c.req.valid('query')
    const outcome = await c.get('store').queryFields(runId, { stepIds: stepId, fieldName })
    if (!outcome.ok) throw apiErrorFromOutcome(outcome.code, outcome.details)
    return c.json({ fields: outcome.value })
  },
)
