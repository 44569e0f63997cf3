import { sql } from 'drizzle-orm'
import { parseJson, toNullableNumber, type SqlExecutor } from '../sql-executor.js'
import { fail, ok, type Fields, type FieldsRow, type Outcome, type StepStatus } from '../types.js'
import type { Row } from './map-rows.js'
import { list } from './tx.js'

/**
 * Fields of a run's steps, in scheduling order. `stepIds` narrows to those steps (unknown ids are
 * simply absent); `fieldName` keeps only steps that posted that field, and only that field.
 */
export async function queryFields(
  db: SqlExecutor,
  runId: string,
  query: { stepIds?: string[]; fieldName?: string },
): Promise<Outcome<FieldsRow[]>> {
  const runs = await db.all<Row>(sql`SELECT 1 AS found FROM runs WHERE id = ${runId}`)
  if (runs.length === 0) return fail('RUN_NOT_FOUND', { runId })
  const only =
    query.stepIds && query.stepIds.length > 0 ? sql`AND step_id IN (${list(query.stepIds)})` : sql``
  const rows = await db.all<Row>(sql`
    SELECT step_id, name, stage_name, status, fields, completed_at FROM steps
    WHERE run_id = ${runId} ${only} ORDER BY id`)
  const out: FieldsRow[] = []
  for (const row of rows) {
    let fields = parseJson<Fields>(row.fields, {})
    if (query.fieldName !== undefined) {
      if (!Object.hasOwn(fields, query.fieldName)) continue
      fields = { [query.fieldName]: fields[query.fieldName] ?? null }
    }
    out.push({
      stepId: String(row.step_id),
      stepName: String(row.name),
      stageName: String(row.stage_name),
      status: row.status as StepStatus,
      fields,
      completedAt: toNullableNumber(row.completed_at),
    })
  }
  return ok(out)
}
