// POST /api/v1/runs: the same as triggering a flow, with the flow named in the body.

import { Hono } from 'hono'
import * as v from 'valibot'
import type { AppEnv } from '../app-env.js'
import { findUsableFlow } from '../flows/find-usable-flow.js'
import { apiTriggerMetadata } from './api-trigger-metadata.js'
import { Identifier, JsonValue } from '../shared-schemas.js'
import { body } from '../validate.js'

export const CreateRunBody = v.object({
  flowName: Identifier,
  input: v.optional(JsonValue),
  metadata: v.optional(JsonValue),
})

export const createRun = new Hono<AppEnv>().post('/runs', body(CreateRunBody), async (c) => {
  const { flowName, input, metadata } = c.req.valid('json')
  const flow = await findUsableFlow(c.get('catalog'), flowName)
  const run = await c
    .get('store')
    .createRun({ flowName: flow.name, input, metadata: apiTriggerMetadata(metadata) }, c.get('clock').now())
  c.get('wake')()
  return c.json(run, 201)
})
