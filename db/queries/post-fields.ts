import { sql } from 'drizzle-orm'
import { parseJson } from '../sql-executor.js'
import type { PostedFields } from '../store.js'
import { fail, ok, type Fields, type Outcome } from '../types.js'
import type { Row } from './map-rows.js'
import type { Tx } from './tx.js'

/** Merges posted fields into the step's (top-level keys; a later post of a key wins). */
export async function postFields(
  tx: Tx,
  runId: string,
  stepId: string,
  fields: Fields,
  now: number,
): Promise<Outcome<PostedFields>> {
  const rows = await tx.q.all<Row>(sql`
    SELECT fields FROM steps WHERE run_id = ${runId} AND step_id = ${stepId} ${tx.d.lockRows}`)
  const row = rows[0]
  if (row === undefined) {
    const runs = await tx.q.all<Row>(sql`SELECT 1 AS found FROM runs WHERE id = ${runId}`)
    return runs.length === 0 ? fail('RUN_NOT_FOUND', { runId }) : fail('STEP_NOT_FOUND', { runId, stepId })
  }
  const merged = { ...parseJson<Fields>(row.fields, {}), ...fields }
  await tx.q.run(sql`
    UPDATE steps SET fields = ${tx.d.json(merged)}, updated_at = ${now}
    WHERE run_id = ${runId} AND step_id = ${stepId}`)
  return ok({ stepId, fields: merged })
}
