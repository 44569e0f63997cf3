// The operator's log lines (db/sql-executor.ts SystemLine) of the transitions the queries commit,
// built from what those queries already read or RETURN, so that a line costs no statement.

import type { SystemLine } from '../sql-executor.js'
import { toNullableNumber, toNumber } from '../sql-executor.js'
import type { Row } from './map-rows.js'

/**
 * A step attempt that failed: for good (`retry` null), to be retried as retry number `retry`, or,
 * `requeued`, lost and queued again without spending a retry.
 */
export function stepFailedLine(
  run: { id: string; flowName: string },
  end: { stepId: string; attempt: number; exitCode: number | null; signal?: string | null },
  reason: string,
  retry: number | null,
  requeued = false,
): SystemLine {
  return {
    event: 'step_failed',
    runId: run.id,
    flow: run.flowName,
    step: end.stepId,
    attempt: end.attempt,
    reason,
    exitCode: end.exitCode,
    signal: end.signal ?? null,
    failedStep: null,
    retry,
    requeued,
  }
}

/** The run's end, from the row its UPDATE returned (flow_name, started_at, created_at). */
export function runEndedLine(
  runId: string,
  ending: { status: 'completed' | 'failed'; terminationReason?: string },
  row: Row | undefined,
  now: number,
): SystemLine {
  const since = toNullableNumber(row?.started_at) ?? toNumber(row?.created_at ?? now)
  return {
    event: 'run_ended',
    runId,
    flow: String(row?.flow_name ?? ''),
    status: ending.status,
    reason: ending.terminationReason ?? null,
    durationMs: Math.max(0, now - since),
  }
}
