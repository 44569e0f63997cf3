// POST /api/v1/leases/exit (internal): a supervisor reports how an attempt ended. The lease key
// carries the attempt, the fencing token: a stale or repeated report is answered {accepted: false}
// and changes nothing, so the supervisor may retry delivery freely.

import { Hono } from 'hono'
import * as v from 'valibot'
import { recordAttemptEnd } from '../../metrics/process-metrics.js'
import type { AppEnv } from '../app-env.js'
import { body } from '../validate.js'

// Mirrors runtime/process-job.ts ExitReportBody.
export const ReportExitBody = v.object({
  lease: v.pipe(v.string(), v.nonEmpty('must not be empty'), v.maxLength(512)),
  exitCode: v.nullable(v.pipe(v.number(), v.integer())),
  signal: v.nullable(v.string()),
  timedOut: v.boolean(),
  stdout: v.string(),
  stderr: v.string(),
  startedAt: v.pipe(v.number(), v.integer(), v.minValue(0)),
})

/**
 * Not MAXQ_MAX_BODY_BYTES: the runtime keeps 256 KiB of stdout and of stderr, which is 3 MiB of
 * JSON when every byte is a control character (\u0001 is six bytes), and a refused report would
 * leave its step running until its lease expired. The size is bounded by the runtime, not the client.
 */
export const MAX_EXIT_REPORT_BYTES = 8 * 1024 * 1024

export const reportExit = new Hono<AppEnv>().post(
  '/leases/exit',
  body(ReportExitBody, { limit: MAX_EXIT_REPORT_BYTES }),
  async (c) => {
    const report = c.req.valid('json')
    const now = c.get('clock').now()
    const outcome = await c.get('store').recordExit(report, now)
    // Only an accepted report changed anything (a freed slot, a retry, a stage end) worth waking for.
    // If it stopped other running work (a failed flow call fails its run), supervisors check leases.
    if (outcome.accepted) {
      recordAttemptEnd(report.lease, report.exitCode, report.startedAt, now)
      c.get('wake')()
      if (outcome.leasesRevoked) c.get('wake')('abort')
    }
    return c.json({ accepted: outcome.accepted })
  },
)
