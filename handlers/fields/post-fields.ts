// POST /api/v1/runs/:runId/steps/:stepId/fields: a step posts results; they are merged into the
// step's fields (a later key replaces an earlier one). Fields never decide the step's status.
// Answers `{id, runId, fields, completedAt}` as the original MaxQ does (`id` is the step id; ours
// also keeps `stepId`), `fields` being the step's fields after the merge.

import { Hono } from 'hono'
import * as v from 'valibot'
import type { AppEnv } from '../app-env.js'
import { apiErrorFromOutcome } from '../errors.js'
import { JsonObject, RunStepParams } from '../shared-schemas.js'
import { body, params } from '../validate.js'

export const PostFieldsBody = v.object({ fields: JsonObject })

export const postFields = new Hono<AppEnv>().post(
  '/runs/:runId/steps/:stepId/fields',
  params(RunStepParams),
  body(PostFieldsBody, { limit: 'fields' }),
  async (c) => {
    const { runId, stepId } = c.req.valid('param')
    const { fields } = c.req.valid('json')
    const outcome = await c.get('store').postFields(runId, stepId, fields, c.get('clock').now())
    if (!outcome.ok) throw apiErrorFromOutcome(outcome.code, outcome.details)
    const posted = outcome.value
    return c.json({
      id: posted.stepId,
      stepId: posted.stepId,
      runId,
      fields: posted.fields,
      completedAt: posted.completedAt,
    })
  },
)
