import { sql } from 'drizzle-orm'
import type { SqlExecutor } from '../sql-executor.js'
import type { StepListQuery } from '../store.js'
import { fail, ok, type FlowCall, type Outcome, type Step } from '../types.js'
import { mapFlowCall, mapStep, type Row } from './map-rows.js'
import { flowCallAttempts, stepAttempts } from './read-attempts.js'
import { loadRunWaitContext, loadUnmetDeps, stepWaitingFor } from './waiting-for.js'

async function runExists(db: SqlExecutor, runId: string): Promise<boolean> {
  const rows = await db.all<Row>(sql`SELECT 1 AS found FROM runs WHERE id = ${runId}`)
  return rows.length > 0
}

/**
 * Steps as the API answers them, each with its `waitingFor`. The run's wait context is read only
 * when a step is pending: two more statements, whatever the number of steps.
 */
async function withWaits(
  db: SqlExecutor,
  runId: string,
  rows: Row[],
  now: number,
  stepId?: string,
): Promise<Step[]> {
  if (!rows.some((row) => row.status === 'pending'))
    return rows.map((row) => ({ ...mapStep(row), waitingFor: null }))
  const [ctx, unmetDeps] = await Promise.all([
    loadRunWaitContext(db, runId, now),
    loadUnmetDeps(db, runId, stepId),
  ])
  return rows.map((row) => ({
    ...mapStep(row),
    waitingFor: ctx === null ? null : stepWaitingFor(row, { ...ctx, unmetDeps }),
  }))
}

export async function listSteps(db: SqlExecutor, runId: string, now = Date.now()): Promise<Outcome<Step[]>> {
  if (!(await runExists(db, runId))) return fail('RUN_NOT_FOUND', { runId })
  const rows = await db.all<Row>(sql`SELECT * FROM steps WHERE run_id = ${runId} ORDER BY id`)
  return ok(await withWaits(db, runId, rows, now))
}

const STEP_SORT_COLUMNS: Record<StepListQuery['sortBy'], string> = {
  createdAt: 'created_at',
  startedAt: 'started_at',
  completedAt: 'completed_at',
  status: 'status',
  name: 'name',
}

/**
 * One page of a run's steps. Ties (a stage's steps share created_at) keep the order the steps were
 * scheduled in, reversed with the sort; NULLS LAST as in listRuns.
 */
export async function listStepsPage(
  db: SqlExecutor,
  runId: string,
  query: StepListQuery,
  now = Date.now(),
): Promise<Outcome<{ steps: Step[]; total: number }>> {
  if (!(await runExists(db, runId))) return fail('RUN_NOT_FOUND', { runId })
  const filters = [sql`run_id = ${runId}`]
  if (query.stage !== undefined) filters.push(sql`stage_name = ${query.stage}`)
  if (query.status !== undefined) filters.push(sql`status = ${query.status}`)
  if (query.name !== undefined) filters.push(sql`name = ${query.name}`)
  const where = sql.join(filters, sql` AND `)
  // The column and direction come from fixed tables, never from the request text.
  const direction = query.sortOrder === 'asc' ? 'ASC' : 'DESC'
  const order = sql.raw(`${STEP_SORT_COLUMNS[query.sortBy]} ${direction} NULLS LAST, id ${direction}`)
  const [counted, rows] = await Promise.all([
    db.all<{ total: number | string }>(sql`SELECT COUNT(*) AS total FROM steps WHERE ${where}`),
    db.all<Row>(sql`
      SELECT * FROM steps WHERE ${where} ORDER BY ${order} LIMIT ${query.limit} OFFSET ${query.offset}`),
  ])
  return ok({ steps: await withWaits(db, runId, rows, now), total: Number(counted[0]?.total ?? 0) })
}

export async function getStep(
  db: SqlExecutor,
  runId: string,
  stepId: string,
  now = Date.now(),
): Promise<Outcome<Step>> {
  const rows = await db.all<Row>(sql`SELECT * FROM steps WHERE run_id = ${runId} AND step_id = ${stepId}`)
  const [step] = await withWaits(db, runId, rows, now, stepId)
  if (step !== undefined) return ok({ ...step, attempts: await stepAttempts(db, runId, stepId) })
  if (!(await runExists(db, runId))) return fail('RUN_NOT_FOUND', { runId })
  return fail('STEP_NOT_FOUND', { runId, stepId })
}

export async function listFlowCalls(db: SqlExecutor, runId: string): Promise<Outcome<FlowCall[]>> {
  if (!(await runExists(db, runId))) return fail('RUN_NOT_FOUND', { runId })
  const [rows, attempts] = await Promise.all([
    db.all<Row>(sql`SELECT * FROM flow_calls WHERE run_id = ${runId} ORDER BY id`),
    flowCallAttempts(db, runId),
  ])
  return ok(rows.map((row) => ({ ...mapFlowCall(row), attempts: attempts.get(Number(row.id)) ?? [] })))
}
