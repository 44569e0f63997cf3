// POST /api/v1/runs/:runId/pause: stop claiming the run's work; running processes finish.

import { Hono } from 'hono'
import type { AppEnv } from '../app-env.js'
import { apiErrorFromOutcome } from '../errors.js'
import { RunParams } from '../shared-schemas.js'
import { params } from '../validate.js'

export const pauseRun = new Hono<AppEnv>().post('/runs/:runId/pause', params(RunParams), async (c) => {
  const { runId } = c.req.valid('param')
  const outcome = await c.get('store').pauseRun(runId, c.get('clock').now())
  if (!outcome.ok) throw apiErrorFromOutcome(outcome.code, outcome.details)
  return c.json(outcome.value)
})
