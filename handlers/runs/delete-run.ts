// DELETE /api/v1/runs/:runId: deletes a finished (completed or failed) run and everything of it:
// stages, steps, fields, captured output, flow calls and logs. An open run is 409
// RUN_NOT_FINISHED (abort it first). A run token may not delete even its own run: scripts record
// history, they do not erase it; only the operator (the API token, or anyone on an open API) may.

import { Hono } from 'hono'
import type { AppEnv } from '../app-env.js'
import { ApiError, apiErrorFromOutcome } from '../errors.js'
import { RunParams } from '../shared-schemas.js'
import { params } from '../validate.js'

export const deleteRun = new Hono<AppEnv>().delete('/runs/:runId', params(RunParams), async (c) => {
  const caller = c.get('caller')
  if (caller.kind === 'run') {
    throw new ApiError(403, 'FORBIDDEN', 'A run token may not delete runs', { tokenRunId: caller.runId })
  }
  const { runId } = c.req.valid('param')
  const outcome = await c.get('store').deleteRun(runId)
  if (!outcome.ok) throw apiErrorFromOutcome(outcome.code, outcome.details)
  return c.json({ deleted: true, id: outcome.value.id })
})
