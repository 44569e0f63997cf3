// GET /api/v1/flows: every flow directory under FLOWS_ROOT with its usable step names, and what
// keeps a flow or a step from running (see flow-view.ts).

import { Hono } from 'hono'
import type { AppEnv } from '../app-env.js'
import { flowView } from './flow-view.js'

export const listFlows = new Hono<AppEnv>().get('/flows', async (c) => {
  const flows = await c.get('catalog').listFlows()
  const now = c.get('clock').now()
  const configs = await Promise.all(flows.map((flow) => c.get('catalog').schedules(flow.name)))
  return c.json({ flows: flows.map((flow, i) => flowView(flow, configs[i]!, now)) })
})
