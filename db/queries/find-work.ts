import { sql, type SQL } from 'drizzle-orm'
import type { SqlExecutor } from '../sql-executor.js'

/** Whether a step or a flow call is claimable now, from the partial indexes alone. */
export function claimableNow(now: number): SQL {
  return sql`(
    EXISTS (SELECT 1 FROM steps WHERE status = 'pending' AND available_at IS NOT NULL AND available_at <= ${now})
    OR EXISTS (SELECT 1 FROM flow_calls WHERE status = 'queued' AND available_at <= ${now}))`
}

/** What a tick loop's timer tick may find: work to claim, and work running (which the reaper checks). */
export interface WorkFound {
  claimable: boolean
  running: boolean
}

/** The timer tick's only question, answered from the partial indexes alone. */
export async function findWork(db: SqlExecutor, now: number): Promise<WorkFound> {
  const rows = await db.all<{ claimable: unknown; running: unknown }>(sql`
    SELECT ${claimableNow(now)} AS claimable,
      (EXISTS (SELECT 1 FROM steps WHERE status = 'running')
        OR EXISTS (SELECT 1 FROM flow_calls WHERE status = 'running')) AS running`)
  // SQLite answers 0 or 1, PostgreSQL a boolean.
  return { claimable: Boolean(rows[0]?.claimable), running: Boolean(rows[0]?.running) }
}
