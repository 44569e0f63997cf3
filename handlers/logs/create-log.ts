// POST /api/v1/runs/:runId/logs: a script (or anyone) writes a structured log entry on the run.
// `entityType` is one of run, stage, step, flow (run when left out) and `level` one of debug, info,
// warn, error (info when left out); anything else is 400 VALIDATION_FAILED. 201 with the entry,
// whose `id` is a string.

import { Hono } from 'hono'
import * as v from 'valibot'
import { LOG_ENTITY_TYPES, LOG_LEVELS } from '../../db/types.js'
import type { AppEnv } from '../app-env.js'
import { apiErrorFromOutcome } from '../errors.js'
import { Identifier, JsonValue, RunParams } from '../shared-schemas.js'
import { body, params } from '../validate.js'

/** A log line, not a file: a script that has more to say writes it to its output or its fields. */
export const MAX_LOG_MESSAGE_BYTES = 64 * 1024

export const CreateLogBody = v.object({
  level: v.optional(v.picklist(LOG_LEVELS), 'info'),
  message: v.pipe(
    v.string(),
    v.nonEmpty('must not be empty'),
    v.check(
      (message) => Buffer.byteLength(message) <= MAX_LOG_MESSAGE_BYTES,
      `must be at most ${MAX_LOG_MESSAGE_BYTES} bytes`,
    ),
  ),
  entityType: v.optional(v.picklist(LOG_ENTITY_TYPES)),
  entityId: v.optional(v.nullable(Identifier)),
  metadata: v.optional(JsonValue),
})

export const createLog = new Hono<AppEnv>().post(
  '/runs/:runId/logs',
  params(RunParams),
  body(CreateLogBody),
  async (c) => {
    const { runId } = c.req.valid('param')
    const outcome = await c.get('store').appendLog(runId, c.req.valid('json'), c.get('clock').now())
    if (!outcome.ok) throw apiErrorFromOutcome(outcome.code, outcome.details)
    return c.json(outcome.value, 201)
  },
)
