// POST /api/v1/flows/:flowName/runs: start a run of a discovered flow. The store inserts the run
// and its first flow call in one transaction; wake() lets the scheduler claim that call at once.

import { Hono } from 'hono'
import * as v from 'valibot'
import { findFlow } from '../../runtime/discover-flows.js'
import type { AppEnv } from '../app-env.js'
import { apiErrorFromOutcome } from '../errors.js'
import { FlowParams, JsonValue } from '../shared-schemas.js'
import { body, params } from '../validate.js'

export const TriggerRunBody = v.object({
  input: v.optional(JsonValue),
  metadata: v.optional(JsonValue),
})

export const triggerRun = new Hono<AppEnv>().post(
  '/flows/:flowName/runs',
  params(FlowParams),
  body(TriggerRunBody),
  async (c) => {
    const { flowName } = c.req.valid('param')
    const flow = await findFlow(c.var.flowsRoot, flowName)
    if (flow === null) throw apiErrorFromOutcome('FLOW_NOT_FOUND', { flowName })
    const { input, metadata } = c.req.valid('json')
    const run = await c.var.store.createRun({ flowName: flow.name, input, metadata }, c.var.clock.now())
    c.var.wake()
    return c.json(run, 201)
  },
)
