// GET /api/v1/runs/:runId/steps/:stepId: one step. The step is the resource here, so an unknown
// id is 404 (elsewhere STEP_NOT_FOUND is 400, see docs/decisions.md).

import { Hono } from 'hono'
import type { AppEnv } from '../app-env.js'
import { apiErrorFromOutcome } from '../errors.js'
import { publicStep } from './public-step.js'
import { RunStepParams } from '../shared-schemas.js'
import { params } from '../validate.js'

export const getStep = new Hono<AppEnv>().get(
  '/runs/:runId/steps/:stepId',
  params(RunStepParams),
  async (c) => {
    const { runId, stepId } = c.req.valid('param')
    const outcome = await c.get('store').getStep(runId, stepId, c.get('clock').now())
    if (!outcome.ok) throw apiErrorFromOutcome(outcome.code, outcome.details, { STEP_NOT_FOUND: 404 })
    return c.json(publicStep(outcome.value))
  },
)
