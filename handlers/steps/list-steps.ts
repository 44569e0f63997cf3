// GET /api/v1/runs/:runId/steps: every step of the run with status, attempts, exit code, timing
// and captured output.

import { Hono } from 'hono'
import type { AppEnv } from '../app-env.js'
import { apiErrorFromOutcome } from '../errors.js'
import { publicStep } from './public-step.js'
import { RunParams } from '../shared-schemas.js'
import { params } from '../validate.js'

export const listSteps = new Hono<AppEnv>().get('/runs/:runId/steps', params(RunParams), async (c) => {
  const { runId } = c.req.valid('param')
  const outcome = await c.var.store.listSteps(runId)
  if (!outcome.ok) throw apiErrorFromOutcome(outcome.code, outcome.details)
  return c.json({ steps: outcome.value.map(publicStep) })
})
