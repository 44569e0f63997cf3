// PATCH /api/v1/runs/:runId: set a run's display name, description or output. Status is not
// settable here; it follows from what the run's processes do.

import { Hono } from 'hono'
import * as v from 'valibot'
import type { AppEnv } from '../app-env.js'
import { apiErrorFromOutcome } from '../errors.js'
import { JsonValue, RunParams } from '../shared-schemas.js'
import { body, params } from '../validate.js'

export const MAX_RUN_NAME_LENGTH = 256
export const MAX_RUN_DESCRIPTION_LENGTH = 10_000

// Strict: an unknown key (say `status`) would otherwise be dropped and the PATCH would silently do
// nothing, so it is a 400 instead.
export const UpdateRunBody = v.strictObject({
  name: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(MAX_RUN_NAME_LENGTH)))),
  description: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(MAX_RUN_DESCRIPTION_LENGTH)))),
  output: v.optional(JsonValue),
})

export const updateRun = new Hono<AppEnv>().patch(
  '/runs/:runId',
  params(RunParams),
  body(UpdateRunBody),
  async (c) => {
    const { runId } = c.req.valid('param')
    const outcome = await c.get('store').updateRun(runId, c.req.valid('json'), c.get('clock').now())
    if (!outcome.ok) throw apiErrorFromOutcome(outcome.code, outcome.details)
    return c.json(outcome.value)
  },
)
