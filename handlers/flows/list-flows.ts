// GET /api/v1/flows: the flows discovered under FLOWS_ROOT, each with its step names.

import { Hono } from 'hono'
import { discoverFlows } from '../../runtime/discover-flows.js'
import type { AppEnv } from '../app-env.js'

export const listFlows = new Hono<AppEnv>().get('/flows', async (c) => {
  const flows = await discoverFlows(c.var.flowsRoot)
  // Only names: filesystem paths of the server are not part of the API.
  return c.json({ flows: flows.map(({ name, steps }) => ({ name, steps })) })
})
