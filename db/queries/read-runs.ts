import { sql, type SQL } from 'drizzle-orm'
import { parseJson, type Dialect, type SqlExecutor } from '../sql-executor.js'
import type { RunListQuery } from '../store.js'
import type { Run, RunWithStages } from '../types.js'
import { mapRun, mapStage, type Row } from './map-rows.js'
import { countRuns } from './run-counts.js'
import { loadRunWaitContext, runWaitingFor } from './waiting-for.js'

// A run's stages as one JSON array of stage rows (column names as keys, so mapStage reads them as
// it reads a row). The two dialects name the same aggregate differently; an empty run gives `[]` on
// SQLite and NULL on PostgreSQL, which parseJson turns into `[]` as well.
const STAGE_PAIRS = ['run_id', 'seq', 'name', 'final', 'status', 'created_at', 'started_at', 'completed_at']
  .map((column) => `'${column}', ${column}`)
  .join(', ')
const STAGES_JSON: Record<Dialect['name'], SQL> = {
  sqlite: sql.raw(`json_group_array(json_object(${STAGE_PAIRS}) ORDER BY seq)`),
  postgres: sql.raw(`json_agg(json_build_object(${STAGE_PAIRS}) ORDER BY seq)`),
}

/**
 * The run and its stages in one statement: GET /runs/{run} is the API's most frequent read (a
 * watcher polls it), and on SQLite every statement outside a transaction takes the WAL read lock
 * anew (file-lock system calls that cost more than the lookup itself).
 */
export async function getRun(
  d: Pick<Dialect, 'name' | 'db'>,
  runId: string,
  now = Date.now(),
): Promise<RunWithStages | null> {
  const rows = await d.db.all<Row>(sql`
    SELECT runs.*, (SELECT ${STAGES_JSON[d.name]} FROM stages WHERE stages.run_id = runs.id) AS stages_json
    FROM runs WHERE id = ${runId}`)
  const row = rows[0]
  if (row === undefined) return null
  const run = { ...mapRun(row), stages: parseJson<Row[]>(row.stages_json, []).map(mapStage) }
  // Only a pending or paused run reads its wait context (one more statement); a watcher polling a
  // running run pays nothing for it.
  if (run.status !== 'pending' && run.status !== 'paused') return { ...run, waitingFor: null }
  const ctx = await loadRunWaitContext(d.db, runId, now)
  return { ...run, waitingFor: ctx === null ? null : runWaitingFor(ctx) }
}

/** The flow a run belongs to, or null for no such run: one primary-key lookup. */
export async function getRunFlowName(db: SqlExecutor, runId: string): Promise<string | null> {
  const rows = await db.all<{ flow_name: string }>(sql`SELECT flow_name FROM runs WHERE id = ${runId}`)
  return rows[0] === undefined ? null : String(rows[0].flow_name)
}

/** Larger than any time in ms: a run not started or finished sorts after every other in asc. */
const NULL_TIME_ASC = '9007199254740991'

/**
 * The ORDER BY of each sort, per direction: every key in the same direction, so that one index
 * (migration 0015) gives the page without sorting the table. A time that is still NULL (a run not
 * started or not finished) sorts last in both directions; the expressions are written exactly as
 * the indexes are, which is what lets the planners use them.
 */
function runOrder(sortBy: RunListQuery['sortBy'], dir: 'ASC' | 'DESC'): string {
  const nullTime = dir === 'ASC' ? NULL_TIME_ASC : '-1'
  switch (sortBy) {
    case 'createdAt':
      return `created_at ${dir}, id ${dir}`
    case 'startedAt':
      return `(COALESCE(started_at, ${nullTime})) ${dir}, id ${dir}`
    case 'completedAt':
      return `(COALESCE(completed_at, ${nullTime})) ${dir}, id ${dir}`
    case 'status':
      return `status ${dir}, created_at ${dir}, id ${dir}`
    case 'flowName':
      return `flow_name ${dir}, created_at ${dir}, id ${dir}`
  }
}

export async function listRuns(
  db: SqlExecutor,
  query: RunListQuery,
): Promise<{ runs: Run[]; total: number }> {
  const filters = [sql`1 = 1`]
  if (query.flowName !== undefined) filters.push(sql`flow_name = ${query.flowName}`)
  if (query.status !== undefined) filters.push(sql`status = ${query.status}`)
  const where = sql.join(filters, sql` AND `)
  // The order comes from the fixed text above, never from the request's.
  const order = sql.raw(runOrder(query.sortBy, query.sortOrder === 'asc' ? 'ASC' : 'DESC'))
  const rows = await db.all<Row>(
    sql`SELECT * FROM runs WHERE ${where} ORDER BY ${order} LIMIT ${query.limit} OFFSET ${query.offset}`,
  )
  return { runs: rows.map(mapRun), total: await countRuns(db, query) }
}
