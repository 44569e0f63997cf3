import { sql } from 'drizzle-orm'
import type { Dialect, SqlExecutor } from '../sql-executor.js'
import type { StepListQuery } from '../store.js'
import { fail, ok, type FlowCall, type Outcome, type Step } from '../types.js'
import { mapFlowCall, mapStep, type Row } from './map-rows.js'
import { flowCallAttempts, stepAttempts } from './read-attempts.js'
import { loadRunWaitContext, loadUnmetDeps, stepWaitingFor } from './waiting-for.js'

async function runExists(db: SqlExecutor, runId: string): Promise<boolean> {
  const rows = await db.all<Row>(sql`SELECT 1 AS found FROM runs WHERE id = ${runId}`)
  return rows.length > 0
}

/** What the step reads need: the database, and the dialect's `IN` over a list. */
type StepReader = Pick<Dialect, 'db' | 'isIn'>

/**
 * Steps as the API answers them, each with its `waitingFor`. The run's wait context is read only
 * when a step is pending: two more statements, whatever the number of steps. `partOfRun`: the rows
 * are some of the run's steps (a page, one step), whose dependencies alone are read.
 */
async function withWaits(
  d: StepReader,
  runId: string,
  rows: Row[],
  now: number,
  partOfRun: boolean,
): Promise<Step[]> {
  const pending = rows.filter((row) => row.status === 'pending').map((row) => String(row.step_id))
  if (pending.length === 0) return rows.map((row) => ({ ...mapStep(row), waitingFor: null }))
  const [ctx, unmetDeps] = await Promise.all([
    loadRunWaitContext(d.db, runId, now),
    loadUnmetDeps(d, runId, partOfRun ? pending : undefined),
  ])
  return rows.map((row) => ({
    ...mapStep(row),
    waitingFor: ctx === null ? null : stepWaitingFor(row, { ...ctx, unmetDeps }),
  }))
}

export async function listSteps(d: StepReader, runId: string, now = Date.now()): Promise<Outcome<Step[]>> {
  if (!(await runExists(d.db, runId))) return fail('RUN_NOT_FOUND', { runId })
  const rows = await d.db.all<Row>(sql`SELECT * FROM steps WHERE run_id = ${runId} ORDER BY id`)
  return ok(await withWaits(d, runId, rows, now, false))
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
  d: StepReader,
  runId: string,
  query: StepListQuery,
  now = Date.now(),
): Promise<Outcome<{ steps: Step[]; total: number }>> {
  const db = d.db
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
  return ok({ steps: await withWaits(d, runId, rows, now, true), total: Number(counted[0]?.total ?? 0) })
}

export async function getStep(
  d: StepReader,
  runId: string,
  stepId: string,
  now = Date.now(),
): Promise<Outcome<Step>> {
  const db = d.db
  const rows = await db.all<Row>(sql`SELECT * FROM steps WHERE run_id = ${runId} AND step_id = ${stepId}`)
  const [step] = await withWaits(d, runId, rows, now, true)
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
