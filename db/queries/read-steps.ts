import { sql } from 'drizzle-orm'
import type { SqlExecutor } from '../sql-executor.js'
import { fail, ok, type FlowCall, type Outcome, type Step } from '../types.js'
import { mapFlowCall, mapStep, type Row } from './map-rows.js'

async function runExists(db: SqlExecutor, runId: string): Promise<boolean> {
  const rows = await db.all<Row>(sql`SELECT 1 AS found FROM runs WHERE id = ${runId}`)
  return rows.length > 0
}

export async function listSteps(db: SqlExecutor, runId: string): Promise<Outcome<Step[]>> {
  if (!(await runExists(db, runId))) return fail('RUN_NOT_FOUND', { runId })
  const rows = await db.all<Row>(sql`SELECT * FROM steps WHERE run_id = ${runId} ORDER BY id`)
  return ok(rows.map(mapStep))
}

export async function getStep(db: SqlExecutor, runId: string, stepId: string): Promise<Outcome<Step>> {
  const rows = await db.all<Row>(sql`SELECT * FROM steps WHERE run_id = ${runId} AND step_id = ${stepId}`)
  if (rows[0] !== undefined) return ok(mapStep(rows[0]))
  if (!(await runExists(db, runId))) return fail('RUN_NOT_FOUND', { runId })
  return fail('STEP_NOT_FOUND', { runId, stepId })
}

export async function listFlowCalls(db: SqlExecutor, runId: string): Promise<Outcome<FlowCall[]>> {
  if (!(await runExists(db, runId))) return fail('RUN_NOT_FOUND', { runId })
  const rows = await db.all<Row>(sql`SELECT * FROM flow_calls WHERE run_id = ${runId} ORDER BY id`)
  return ok(rows.map(mapFlowCall))
}
