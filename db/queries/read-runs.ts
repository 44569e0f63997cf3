import { sql, type SQL } from 'drizzle-orm'
import { FixedQuery } from '../fixed-query.js'
import { parseJson, type Dialect, type SqlExecutor } from '../sql-executor.js'
import type { RunListQuery } from '../store.js'
import type { Run, RunWithStages } from '../types.js'
import { mapRun, mapStage, type Row } from './map-rows.js'
import { countRuns } from './run-counts.js'
import { loadRunWaitContext, runWaitingFor } from './waiting-for.js'

/** `json_object` pairs: each answer key with the SQL expression of its value. */
const jsonPairs = (pairs: [string, string][]): string =>
  pairs.map(([key, value]) => `'${key}', ${value}`).join(', ')

// A run's stages as one JSON array of stage rows (column names as keys, so mapStage reads them as
// it reads a row). The two dialects name the same aggregate differently; an empty run gives `[]` on
// SQLite and NULL on PostgreSQL, which parseJson turns into `[]` as well.
const STAGE_PAIRS = jsonPairs(
  ['run_id', 'seq', 'name', 'final', 'status', 'created_at', 'started_at', 'completed_at'].map((column) => [
    column,
    column,
  ]),
)
const STAGES_JSON: Record<Dialect['name'], SQL> = {
  sqlite: sql.raw(`json_group_array(json_object(${STAGE_PAIRS}) ORDER BY seq)`),
  postgres: sql.raw(`json_agg(json_build_object(${STAGE_PAIRS}) ORDER BY seq)`),
}

/**
 * The run and its stages in one statement: GET /runs/{run} is the API's most frequent read (a
 * watcher polls it), and each statement is a read transaction or a round trip of its own.
 */
const runWithStages = (name: Dialect['name']) =>
  new FixedQuery<{ runId: string }>(
    (value) => sql`
      SELECT runs.*, (SELECT ${STAGES_JSON[name]} FROM stages WHERE stages.run_id = runs.id) AS stages_json
      FROM runs WHERE id = ${value('runId')}`,
  )
const RUN_WITH_STAGES = { sqlite: runWithStages('sqlite'), postgres: runWithStages('postgres') }

export async function getRun(
  d: Pick<Dialect, 'name' | 'db' | 'lookup'>,
  runId: string,
  now = Date.now(),
): Promise<RunWithStages | null> {
  const rows = await d.lookup<Row>(RUN_WITH_STAGES[d.name].with({ runId }))
  const row = rows[0]
  if (row === undefined) return null
  const run: RunWithStages = {
    ...mapRun(row),
    stages: parseJson<Row[]>(row.stages_json, []).map(mapStage),
    waitingFor: null,
  }
  // Only a pending or paused run reads its wait context (one more statement); a watcher polling a
  // running run pays nothing for it.
  if (run.status !== 'pending' && run.status !== 'paused') return run
  const ctx = await loadRunWaitContext(d.db, runId, now)
  if (ctx !== null) run.waitingFor = runWaitingFor(ctx)
  return run
}

/**
 * GET /runs/{run}'s answer written by SQLite itself: the keys, order and values mapRun, mapStage and
 * getRun give (JSON columns embedded with json(), `final` as a boolean), so the API answers the text
 * as it comes. Building the same answer in JavaScript (a row object, parsing the stages, mapping,
 * JSON.stringify) cost the API more than half its throughput on this, its most polled request. A
 * pending or paused run is answered from getRun instead, for its waitingFor.
 */
const RUN_ANSWER_SQLITE = new FixedQuery<{ runId: string }>((value) => {
  const stage = jsonPairs([
    ['runId', 'run_id'],
    ['name', 'name'],
    ['seq', 'seq'],
    ['final', "json(CASE WHEN final = 1 THEN 'true' ELSE 'false' END)"],
    ['status', 'status'],
    ['createdAt', 'created_at'],
    ['startedAt', 'started_at'],
    ['completedAt', 'completed_at'],
  ])
  const run = jsonPairs([
    ['id', 'id'],
    ['flowName', 'flow_name'],
    ['status', 'status'],
    ['input', 'json(input)'],
    ['metadata', 'json(metadata)'],
    ['name', 'name'],
    ['description', 'description'],
    ['output', 'json(output)'],
    ['error', 'json(error)'],
    ['terminationReason', 'termination_reason'],
    ['createdAt', 'created_at'],
    ['startedAt', 'started_at'],
    ['completedAt', 'completed_at'],
    ['updatedAt', 'updated_at'],
  ])
  return sql`
    SELECT status, json_object(${sql.raw(run)},
      'stages', (SELECT json_group_array(json_object(${sql.raw(stage)}) ORDER BY seq)
                 FROM stages WHERE stages.run_id = runs.id),
      'waitingFor', NULL) AS answer
    FROM runs WHERE id = ${value('runId')}`
})

/** The run as GET /runs/{run} answers it, as JSON text; null for no such run. */
export async function getRunJson(
  d: Pick<Dialect, 'name' | 'db' | 'lookup'>,
  runId: string,
  now = Date.now(),
): Promise<string | null> {
  if (d.name === 'sqlite') {
    const [row] = await d.lookup<{ status: string; answer: string }>(RUN_ANSWER_SQLITE.with({ runId }))
    if (row === undefined) return null
    if (row.status !== 'pending' && row.status !== 'paused') return row.answer
  }
  const run = await getRun(d, runId, now)
  return run === null ? null : JSON.stringify(run)
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
