// POST /api/v1/runs/:runId/abort: fail the run's open work with terminationReason "aborted".
// Idempotent. Processes are terminated by their supervisors, which learn from the heartbeat that
// their lease was lost; wake() makes the local scheduler notice at once.

import { Hono } from 'hono'
import type { AppEnv } from '../app-env.js'
import { apiErrorFromOutcome } from '../errors.js'
import { RunParams } from '../shared-schemas.js'
import { params } from '../validate.js'

export const abortRun = new Hono<AppEnv>().post('/runs/:runId/abort', params(RunParams), async (c) => {
  const { runId } = c.req.valid('param')
  const outcome = await c.get('store').abortRun(runId, c.get('clock').now())
  if (!outcome.ok) throw apiErrorFromOutcome(outcome.code, outcome.details)
  c.get('wake')('abort')
  return c.json(outcome.value)
})
