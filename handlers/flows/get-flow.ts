// GET /api/v1/flows/:flowName: one flow directory with its usable step names and its problems. A
// directory that is no usable flow answers 200 with `usable: false` and the reason; only a name
// with no directory (or one that could leave FLOWS_ROOT) is 404.

import { Hono } from 'hono'
import type { AppEnv } from '../app-env.js'
import { apiErrorFromOutcome } from '../errors.js'
import { FlowParams } from '../shared-schemas.js'
import { params } from '../validate.js'
import { flowView } from './flow-view.js'

export const getFlow = new Hono<AppEnv>().get('/flows/:flowName', params(FlowParams), async (c) => {
  const { flowName } = c.req.valid('param')
  const flow = await c.get('catalog').findFlow(flowName)
  if (flow === null) throw apiErrorFromOutcome('FLOW_NOT_FOUND', { flowName })
  return c.json(flowView(flow, await c.get('catalog').schedules(flow.name), c.get('clock').now()))
})
