import { sql } from 'drizzle-orm'
import { parseJson, toNullableNumber, type Dialect, type SqlExecutor } from '../sql-executor.js'
import type { PostedFields } from '../store.js'
import { fail, ok, type Fields, type Outcome } from '../types.js'
import type { Row } from './map-rows.js'

/**
 * Merges posted fields into the step's (top-level keys; a later post of a key wins). Every step
 * posts fields, so this is on each step's path: PostgreSQL merges in one statement (`jsonb ||`
 * replaces top-level keys, and an UPDATE recomputes it on the newest row, so concurrent posts lose
 * nothing), one round trip with no explicit transaction. SQLite has no such operator; it reads and
 * writes in one transaction.
 */
export async function postFields(
  d: Dialect,
  runId: string,
  stepId: string,
  fields: Fields,
  now: number,
): Promise<Outcome<PostedFields>> {
  const merged =
    d.name === 'postgres'
      ? await mergeInOneStatement(d, runId, stepId, fields, now)
      : await d.transaction((q) => readAndWrite(q, d, runId, stepId, fields, now))
  if (merged !== null) return ok({ stepId, ...merged })
  const runs = await d.db.all<Row>(sql`SELECT 1 AS found FROM runs WHERE id = ${runId}`)
  return runs.length === 0 ? fail('RUN_NOT_FOUND', { runId }) : fail('STEP_NOT_FOUND', { runId, stepId })
}

/** The step's fields after the merge, and when it ended (the answer carries both). */
type Merged = Omit<PostedFields, 'stepId'>

async function mergeInOneStatement(
  d: Dialect,
  runId: string,
  stepId: string,
  fields: Fields,
  now: number,
): Promise<Merged | null> {
  const rows = await d.db.all<Row>(sql`
    UPDATE steps SET fields = COALESCE(fields, '{}'::jsonb) || ${d.json(fields)}, updated_at = ${now}
    WHERE run_id = ${runId} AND step_id = ${stepId}
    RETURNING fields, completed_at`)
  const row = rows[0]
  if (row === undefined) return null
  return { fields: parseJson<Fields>(row.fields, {}), completedAt: toNullableNumber(row.completed_at) }
}

async function readAndWrite(
  q: SqlExecutor,
  d: Pick<Dialect, 'json'>,
  runId: string,
  stepId: string,
  fields: Fields,
  now: number,
): Promise<Merged | null> {
  const rows = await q.all<Row>(sql`
    SELECT fields, completed_at FROM steps WHERE run_id = ${runId} AND step_id = ${stepId}`)
  const row = rows[0]
  if (row === undefined) return null
  const merged = { ...parseJson<Fields>(row.fields, {}), ...fields }
  await q.run(sql`
    UPDATE steps SET fields = ${d.json(merged)}, updated_at = ${now}
    WHERE run_id = ${runId} AND step_id = ${stepId}`)
  return { fields: merged, completedAt: toNullableNumber(row.completed_at) }
}
