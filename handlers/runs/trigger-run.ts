// POST /api/v1/flows/:flowName/runs: start a run of a discovered flow. The store inserts the run
// and its first flow call in one transaction; wake() lets the scheduler claim that call at once.

import { Hono } from 'hono'
import * as v from 'valibot'
import type { AppEnv } from '../app-env.js'
import { findUsableFlow } from '../flows/find-usable-flow.js'
import { apiTriggerMetadata } from './api-trigger-metadata.js'
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
    const flow = await findUsableFlow(c.get('catalog'), flowName)
    const { input, metadata } = c.req.valid('json')
    const run = await c
      .get('store')
      .createRun({ flowName: flow.name, input, metadata: apiTriggerMetadata(metadata) }, c.get('clock').now())
    c.get('wake')()
    return c.json(run, 201)
  },
)
