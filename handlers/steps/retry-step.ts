// POST /api/v1/runs/:runId/steps/:stepId/retry: put one failed step back to pending.

import { Hono } from 'hono'
import type { AppEnv } from '../app-env.js'
import { apiErrorFromOutcome } from '../errors.js'
import { publicStep } from './public-step.js'
import { RunStepParams } from '../shared-schemas.js'
import { params } from '../validate.js'

export const retryStep = new Hono<AppEnv>().post(
  '/runs/:runId/steps/:stepId/retry',
  params(RunStepParams),
  async (c) => {
    const { runId, stepId } = c.req.valid('param')
    const outcome = await c.get('store').retryStep(runId, stepId, c.get('clock').now())
    if (!outcome.ok) throw apiErrorFromOutcome(outcome.code, outcome.details)
    c.get('wake')()
    return c.json(publicStep(outcome.value))
  },
)
