import { sql, type SQL } from 'drizzle-orm'
import type { SqlExecutor } from '../sql-executor.js'

/** Whether a step or a flow call is claimable now, from the partial indexes alone. */
export function claimableNow(now: number): SQL {
  return sql`(
    EXISTS (SELECT 1 FROM steps WHERE status = 'pending' AND available_at IS NOT NULL AND available_at <= ${now})
    OR EXISTS (SELECT 1 FROM flow_calls WHERE status = 'queued' AND available_at <= ${now}))`
}

/**
 * The idle tick's only question, answered from the partial indexes alone: is anything claimable,
 * or running (and so possibly in need of reaping)?
 */
export async function hasWork(db: SqlExecutor, now: number): Promise<boolean> {
  const rows = await db.all<{ work: number }>(sql`
    SELECT 1 AS work WHERE ${claimableNow(now)}
      OR EXISTS (SELECT 1 FROM steps WHERE status = 'running')
      OR EXISTS (SELECT 1 FROM flow_calls WHERE status = 'running')`)
  return rows.length > 0
}
