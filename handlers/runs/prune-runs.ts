// POST /api/v1/runs/prune: deletes one bounded batch of the oldest finished runs that ended before
// a cut-off (`finishedBefore`, epoch ms, or `olderThanMs` before the server's clock), optionally of
// one flow; `dryRun` lists them instead (with how many match in all). Stateless and idempotent:
// a client deletes everything old by calling again until `deleted` is 0 (`maxq prune` does).
// Only the operator may prune: a run token is refused (a script has no business erasing history).

import { Hono } from 'hono'
import * as v from 'valibot'
import type { AppEnv } from '../app-env.js'
import { ApiError } from '../errors.js'
import { Identifier } from '../shared-schemas.js'
import { body } from '../validate.js'

/** Runs one call deletes at most, and by default: each batch is one short statement. */
export const MAX_PRUNE_LIMIT = 1000
export const DEFAULT_PRUNE_LIMIT = 100

const Millis = v.pipe(v.number(), v.integer('must be a whole number of milliseconds'), v.minValue(0))

export const PruneRunsBody = v.pipe(
  v.strictObject({
    finishedBefore: v.optional(v.pipe(Millis, v.maxValue(Number.MAX_SAFE_INTEGER))),
    olderThanMs: v.optional(v.pipe(Millis, v.maxValue(Number.MAX_SAFE_INTEGER))),
    flowName: v.optional(Identifier),
    dryRun: v.optional(v.boolean(), false),
    limit: v.optional(
      v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_PRUNE_LIMIT)),
      DEFAULT_PRUNE_LIMIT,
    ),
  }),
  v.check(
    (b) => (b.finishedBefore === undefined) !== (b.olderThanMs === undefined),
    'give exactly one of finishedBefore (epoch ms) and olderThanMs',
  ),
)

export const pruneRuns = new Hono<AppEnv>().post('/runs/prune', body(PruneRunsBody), async (c) => {
  const caller = c.get('caller')
  if (caller.kind === 'run') {
    throw new ApiError(403, 'FORBIDDEN', 'A run token may not prune runs', { tokenRunId: caller.runId })
  }
  const { finishedBefore, olderThanMs, flowName, dryRun, limit } = c.req.valid('json')
  const before = finishedBefore ?? c.get('clock').now() - (olderThanMs ?? 0)
  const outcome = await c.get('store').pruneRuns({
    finishedBefore: before,
    limit,
    dryRun,
    ...(flowName === undefined ? {} : { flowName }),
  })
  return c.json({
    deleted: dryRun ? 0 : outcome.runIds.length,
    runIds: outcome.runIds,
    matched: outcome.matched,
    dryRun,
    finishedBefore: before,
  })
})
