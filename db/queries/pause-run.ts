import { sql } from 'drizzle-orm'
import { fail, ok, type Outcome } from '../types.js'
import { refreshReadiness } from './refresh-readiness.js'
import { isRunOpen, lockRun, type Tx } from './tx.js'
import { writeLog } from './write-log.js'

/** Stops claiming for the run: pending steps leave the claimable index; running ones finish. */
export async function pauseRun(tx: Tx, runId: string, now: number): Promise<Outcome<null>> {
  const run = await lockRun(tx, runId)
  if (run === null) return fail('RUN_NOT_FOUND', { runId })
  if (run.status === 'paused') return ok(null)
  if (!isRunOpen(run.status)) return fail('INVALID_STATE', { runId, status: String(run.status) })
  await tx.q.run(sql`UPDATE runs SET status = 'paused', updated_at = ${now} WHERE id = ${runId}`)
  await tx.q.run(sql`
    UPDATE steps SET available_at = NULL, updated_at = ${now}
    WHERE run_id = ${runId} AND status = 'pending' AND available_at IS NOT NULL`)
  await writeLog(tx, runId, { entityType: 'run', entityId: runId, level: 'info', message: 'run paused' }, now)
  return ok(null)
}

export async function resumeRun(tx: Tx, runId: string, now: number): Promise<Outcome<null>> {
  const run = await lockRun(tx, runId)
  if (run === null) return fail('RUN_NOT_FOUND', { runId })
  if (isRunOpen(run.status)) return ok(null)
  if (run.status !== 'paused') return fail('INVALID_STATE', { runId, status: String(run.status) })
  const status = run.started_at === null ? 'pending' : 'running'
  await tx.q.run(sql`UPDATE runs SET status = ${status}, updated_at = ${now} WHERE id = ${runId}`)
  await refreshReadiness(tx, runId, true, now)
  await writeLog(
    tx,
    runId,
    { entityType: 'run', entityId: runId, level: 'info', message: 'run resumed' },
    now,
  )
  return ok(null)
}
