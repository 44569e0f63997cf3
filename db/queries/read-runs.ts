import { sql } from 'drizzle-orm'
import type { SqlExecutor } from '../sql-executor.js'
import type { RunListQuery } from '../store.js'
import type { Run, RunWithStages } from '../types.js'
import { mapRun, mapStage, type Row } from './map-rows.js'

export async function getRun(db: SqlExecutor, runId: string): Promise<RunWithStages | null> {
  const rows = await db.all<Row>(sql`SELECT * FROM runs WHERE id = ${runId}`)
  if (rows[0] === undefined) return null
  const stages = await db.all<Row>(sql`SELECT * FROM stages WHERE run_id = ${runId} ORDER BY seq`)
  return { ...mapRun(rows[0]), stages: stages.map(mapStage) }
}

const SORT_COLUMNS: Record<RunListQuery['sortBy'], string> = {
  createdAt: 'created_at',
  startedAt: 'started_at',
  completedAt: 'completed_at',
  status: 'status',
  flowName: 'flow_name',
}

export async function listRuns(
  db: SqlExecutor,
  query: RunListQuery,
): Promise<{ runs: Run[]; total: number }> {
  const filters = [sql`1 = 1`]
  if (query.flowName !== undefined) filters.push(sql`flow_name = ${query.flowName}`)
  if (query.status !== undefined) filters.push(sql`status = ${query.status}`)
  const where = sql.join(filters, sql` AND `)
  // The column and direction come from fixed tables above, never from the request text.
  // NULLS LAST: SQLite and PostgreSQL put NULLs (runs not started or not finished) at opposite ends
  // by default; both dialects list them last.
  const direction = query.sortOrder === 'asc' ? 'ASC' : 'DESC'
  const order = sql.raw(`${SORT_COLUMNS[query.sortBy]} ${direction} NULLS LAST, id ASC`)
  const counted = await db.all<{ total: number | string }>(
    sql`SELECT COUNT(*) AS total FROM runs WHERE ${where}`,
  )
  const rows = await db.all<Row>(
    sql`SELECT * FROM runs WHERE ${where} ORDER BY ${order} LIMIT ${query.limit} OFFSET ${query.offset}`,
  )
  return { runs: rows.map(mapRun), total: Number(counted[0]?.total ?? 0) }
}
