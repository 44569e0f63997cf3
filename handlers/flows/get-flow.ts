// GET /api/v1/flows/:flowName: one discovered flow with its step names.

import { Hono } from 'hono'
import { findFlow } from '../../runtime/discover-flows.js'
import type { AppEnv } from '../app-env.js'
import { apiErrorFromOutcome } from '../errors.js'
import { FlowParams } from '../shared-schemas.js'
import { params } from '../validate.js'

export const getFlow = new Hono<AppEnv>().get('/flows/:flowName', params(FlowParams), async (c) => {
  const { flowName } = c.req.valid('param')
  // findFlow answers null for a name that could leave FLOWS_ROOT, so that is a 404 too.
  const flow = await findFlow(c.var.flowsRoot, flowName)
  if (flow === null) throw apiErrorFromOutcome('FLOW_NOT_FOUND', { flowName })
  return c.json({ name: flow.name, steps: flow.steps })
})
