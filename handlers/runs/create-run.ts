// POST /api/v1/runs: the same as triggering a flow, with the flow named in the body.

import { Hono } from 'hono'
import * as v from 'valibot'
import { findFlow } from '../../runtime/discover-flows.js'
import type { AppEnv } from '../app-env.js'
import { apiErrorFromOutcome } from '../errors.js'
import { Identifier, JsonValue } from '../shared-schemas.js'
import { body } from '../validate.js'

export const CreateRunBody = v.object({
  flowName: Identifier,
  input: v.optional(JsonValue),
  metadata: v.optional(JsonValue),
})

export const createRun = new Hono<AppEnv>().post('/runs', body(CreateRunBody), async (c) => {
  const { flowName, input, metadata } = c.req.valid('json')
  const flow = await findFlow(c.var.flowsRoot, flowName)
  if (flow === null) throw apiErrorFromOutcome('FLOW_NOT_FOUND', { flowName })
  const run = await c.var.store.createRun({ flowName: flow.name, input, metadata }, c.var.clock.now())
  c.var.wake()
  return c.json(run, 201)
})
