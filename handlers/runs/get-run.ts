// GET /api/v1/runs/:runId: one run with its stages.

import { Hono } from 'hono'
import type { AppEnv } from '../app-env.js'
import { apiErrorFromOutcome } from '../errors.js'
import { RunParams } from '../shared-schemas.js'
import { params } from '../validate.js'

export const getRun = new Hono<AppEnv>().get('/runs/:runId', params(RunParams), async (c) => {
  const { runId } = c.req.valid('param')
  const run = await c.var.store.getRun(runId, c.var.clock.now())
  if (run === null) throw apiErrorFromOutcome('RUN_NOT_FOUND', { runId })
  return c.json(run)
})
