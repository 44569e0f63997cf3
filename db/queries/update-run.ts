import { sql } from 'drizzle-orm'
import type { RunPatch } from '../store.js'
import { fail, ok, type Outcome, type Run } from '../types.js'
import { mapRun, type Row } from './map-rows.js'
import { lockRun, type Tx } from './tx.js'

/** Sets a run's display fields; other state is owned by the lifecycle. */
export async function updateRun(tx: Tx, runId: string, patch: RunPatch, now: number): Promise<Outcome<Run>> {
  const run = await lockRun(tx, runId)
  if (run === null) return fail('RUN_NOT_FOUND', { runId })
  const sets = [sql`updated_at = ${now}`]
  if (patch.name !== undefined) sets.push(sql`name = ${patch.name}`)
  if (patch.description !== undefined) sets.push(sql`description = ${patch.description}`)
  if (patch.output !== undefined) sets.push(sql`output = ${tx.d.json(patch.output)}`)
  const updated = await tx.q.all<Row>(
    sql`UPDATE runs SET ${sql.join(sets, sql`, `)} WHERE id = ${runId} RETURNING *`,
  )
  return ok(mapRun(updated[0] as Row))
}
