// A 4xx answered to a run's own script (it presented the run's MAXQ_TOKEN) is also written to that
// run's log, so the run's log, its error and `maxq watch` show what a flow or step got wrong, where
// curl alone shows only "The requested URL returned error: 400". Anyone else's refused request
// changes nothing, logs included: otherwise anyone could flood a run's log.

import type { Context } from 'hono'
import type { AppEnv } from './app-env.js'
import type { ApiError } from './errors.js'

const STEP_PATH = /^\/api\/v1\/runs\/[^/]+\/steps\/([^/]+)(?:\/|$)/
const SCHEDULE_PATH = /^\/api\/v1\/runs\/[^/]+\/steps\/?$/

export async function reportRefusal(
  c: Context<AppEnv>,
  error: ApiError,
  logger: (line: string) => void,
): Promise<void> {
  const caller = c.get('caller')
  if (caller?.kind !== 'run' || error.status < 400 || error.status >= 500) return
  const path = c.req.path
  const step = STEP_PATH.exec(path)?.[1]
  try {
    await c.get('store').recordRefusal(
      caller.runId,
      {
        method: c.req.method,
        path,
        status: error.status,
        code: error.code,
        error: describe(error),
        details: error.details,
        ...(step === undefined ? {} : { stepId: safeDecode(step) }),
        schedule: c.req.method === 'POST' && SCHEDULE_PATH.test(path),
      },
      c.get('clock').now(),
    )
  } catch (failure) {
    // The answer the script gets matters more than the log line.
    logger(`recording a refused request of run ${caller.runId} failed: ${String(failure)}`)
  }
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

/** The error with every problem its details list, so that one log line names each mistake. */
function describe(error: ApiError): string {
  const details: unknown = error.details
  const listed = Array.isArray(details)
    ? details
    : typeof details === 'object' &&
        details !== null &&
        'problems' in details &&
        Array.isArray(details.problems)
      ? details.problems
      : []
  const problems = listed.flatMap((item: unknown) => {
    if (typeof item !== 'object' || item === null) return []
    const where = 'path' in item && typeof item.path === 'string' && item.path !== '' ? `${item.path}: ` : ''
    const what =
      'message' in item && typeof item.message === 'string'
        ? item.message
        : 'reason' in item && typeof item.reason === 'string'
          ? `${'name' in item ? `step ${String(item.name)} ` : ''}${item.reason}`
          : null
    return what === null ? [] : [`${where}${what}`]
  })
  return problems.length > 1
    ? `${error.message.replace(/ \(and \d+ more\)$/, '')}; ${problems.slice(1).join('; ')}`
    : error.message
}
