// POST /api/v1/runs/:runId/resume: claim the run's work again; wake() so it starts at once.

import { Hono } from 'hono'
import type { AppEnv } from '../app-env.js'
import { apiErrorFromOutcome } from '../errors.js'
import { RunParams } from '../shared-schemas.js'
import { params } from '../validate.js'

export const resumeRun = new Hono<AppEnv>().post('/runs/:runId/resume', params(RunParams), async (c) => {
  const { runId } = c.req.valid('param')
  const outcome = await c.get('store').resumeRun(runId, c.get('clock').now())
  if (!outcome.ok) throw apiErrorFromOutcome(outcome.code, outcome.details)
  c.get('wake')()
  return c.json(outcome.value)
})
