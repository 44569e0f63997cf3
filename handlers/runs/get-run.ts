// GET /api/v1/runs/:runId: one run with its stages.

import { Hono } from 'hono'
import type { AppEnv } from '../app-env.js'
import { apiErrorFromOutcome } from '../errors.js'
import { RunParams } from '../shared-schemas.js'
import { params } from '../validate.js'

export const getRun = new Hono<AppEnv>().get('/runs/:runId', params(RunParams), async (c) => {
  const { runId } = c.req.valid('param')
  // Already JSON (the store's getRunJson): the API's most polled answer is not parsed and rewritten.
  const run = await c.get('store').getRunJson(runId, c.get('clock').now())
  if (run === null) throw apiErrorFromOutcome('RUN_NOT_FOUND', { runId })
  return c.body(run, 200, { 'Content-Type': 'application/json' })
})
