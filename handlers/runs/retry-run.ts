// POST /api/v1/runs/:runId/retry: a failed or aborted run goes back to work; completed steps are
// kept, unfinished ones are reset to pending. 400 RUN_COMPLETED, 409 RUN_STILL_RUNNING. Answers
// `{run, message}` with the run as the reset left it (status pending), as the original MaxQ does;
// see db/queries/retry-run.ts for what the same commit does next.

import { Hono } from 'hono'
import type { AppEnv } from '../app-env.js'
import { apiErrorFromOutcome } from '../errors.js'
import { RunParams } from '../shared-schemas.js'
import { params } from '../validate.js'

export const retryRun = new Hono<AppEnv>().post('/runs/:runId/retry', params(RunParams), async (c) => {
  const { runId } = c.req.valid('param')
  const outcome = await c.get('store').retryRun(runId, c.get('clock').now())
  if (!outcome.ok) throw apiErrorFromOutcome(outcome.code, outcome.details)
  c.get('wake')()
  return c.json({ run: outcome.value, message: 'Run retry initiated' })
})
