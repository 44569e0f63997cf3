import { sql } from 'drizzle-orm'
import type { Json } from '../types.js'
import type { Tx } from './tx.js'
import { writeLog } from './write-log.js'

/** A request of a run's own script that the API refused with a 4xx. */
export interface Refusal {
  method: string
  path: string
  status: number
  code: string
  error: string
  details: Json
  /** The step the request was about (`/steps/{step}/…`), when it names one. */
  stepId?: string
  /** A stage post: its refusal stays with the running flow call (see recordFlowExit). */
  schedule: boolean
}

/**
 * Writes the refusal to the run's log at warn, so that the run's log and `maxq watch` say what a
 * script got wrong, and, for a stage post, remembers it on the run's running flow call.
 */
export async function recordRefusal(tx: Tx, runId: string, refusal: Refusal, now: number): Promise<boolean> {
  const runs = await tx.q.all<{ flow_name: string }>(sql`SELECT flow_name FROM runs WHERE id = ${runId}`)
  const run = runs[0]
  if (run === undefined) return false
  const { method, path, status, code, error, details } = refusal
  await writeLog(
    tx,
    runId,
    {
      entityType: refusal.stepId !== undefined ? 'step' : 'flow',
      entityId: refusal.stepId ?? run.flow_name,
      level: 'warn',
      message: `${method} ${path} refused: ${status} ${code}: ${error}`,
      metadata: { refused: { method, path, status, code, error, details } },
    },
    now,
  )
  if (refusal.schedule) {
    const stored = tx.d.json({ method, path, status, code, error, details })
    await tx.q.run(
      sql`UPDATE flow_calls SET refusal = ${stored} WHERE run_id = ${runId} AND status = 'running'`,
    )
  }
  return true
}
