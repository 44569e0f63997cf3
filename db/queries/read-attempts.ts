// The attempt history of one step, or of a run's flow calls (the attempts table, migration 0011),
// oldest first. Read from the attempts_run_step / attempts_run_flow_call indexes.

import { sql } from 'drizzle-orm'
import { toNumber, type SqlExecutor } from '../sql-executor.js'
import type { Attempt } from '../types.js'
import { mapAttempt, type Row } from './map-rows.js'

export async function stepAttempts(db: SqlExecutor, runId: string, stepId: string): Promise<Attempt[]> {
  const rows = await db.all<Row>(sql`
    SELECT * FROM attempts WHERE run_id = ${runId} AND step_id = ${stepId} ORDER BY attempt, id`)
  return rows.map(mapAttempt)
}

/** Flow call id → its attempts, for every flow call of the run that has one. */
export async function flowCallAttempts(db: SqlExecutor, runId: string): Promise<Map<number, Attempt[]>> {
  const rows = await db.all<Row>(sql`
    SELECT * FROM attempts WHERE run_id = ${runId} AND flow_call_id IS NOT NULL
    ORDER BY flow_call_id, attempt, id`)
  const out = new Map<number, Attempt[]>()
  for (const row of rows) {
    const callId = toNumber(row.flow_call_id)
    const list = out.get(callId) ?? []
    list.push(mapAttempt(row))
    out.set(callId, list)
  }
  return out
}
