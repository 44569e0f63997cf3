// GET /api/v1/runs/:runId/flow-calls: every flow.sh call of the run (which stage it followed, exit
// code, captured output), oldest first. Where to look when a flow misbehaves.

import { Hono } from 'hono'
import type { AppEnv } from '../app-env.js'
import { apiErrorFromOutcome } from '../errors.js'
import { RunParams } from '../shared-schemas.js'
import { params } from '../validate.js'

export const listFlowCalls = new Hono<AppEnv>().get(
  '/runs/:runId/flow-calls',
  params(RunParams),
  async (c) => {
    const { runId } = c.req.valid('param')
    const outcome = await c.get('store').listFlowCalls(runId)
    if (!outcome.ok) throw apiErrorFromOutcome(outcome.code, outcome.details)
    return c.json({ flowCalls: outcome.value })
  },
)
