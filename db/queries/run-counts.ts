import { sql } from 'drizzle-orm'
import type { Dialect, SqlExecutor } from '../sql-executor.js'

// How many runs match GET /runs's filters, from the +1/−1 rows the triggers of migration 0016
// append for every change of a run's (flow, status). The sum reads the folded rows (one per flow
// and status) and whatever was appended since the last fold.

/** Changes past which a fold is worth its write (a fold also runs below it: see foldRunCounts). */
export const FOLD_AFTER_CHANGES = 200

/** The PostgreSQL advisory lock that lets one fold run at a time (any number: ours alone). */
const FOLD_LOCK = 7_348_201

export async function countRuns(
  db: SqlExecutor,
  filter: { flowName?: string; status?: string },
): Promise<number> {
  const filters = [sql`1 = 1`]
  if (filter.flowName !== undefined) filters.push(sql`flow_name = ${filter.flowName}`)
  if (filter.status !== undefined) filters.push(sql`status = ${filter.status}`)
  const rows = await db.all<{ total: number | string | null }>(
    sql`SELECT SUM(delta) AS total FROM run_count_changes WHERE ${sql.join(filters, sql` AND `)}`,
  )
  return Number(rows[0]?.total ?? 0)
}

/**
 * Folds the appended changes into one row per (flow, status), when there are more than
 * FOLD_AFTER_CHANGES of them; answers how many rows it folded (0 when it did nothing). Safe beside
 * the triggers and other folds: it moves exactly the rows it deletes.
 */
export async function foldRunCounts(d: Dialect): Promise<number> {
  const span = await d.db.all<{ span: number | string | null }>(
    sql`SELECT MAX(id) - MIN(id) AS span FROM run_count_changes`,
  )
  if (Number(span[0]?.span ?? 0) < FOLD_AFTER_CHANGES) return 0
  if (d.name === 'postgres') {
    // One statement, so one snapshot: what it sums is exactly what it deleted, even while
    // triggers in other transactions append (their rows are not in the snapshot, not deleted).
    const rows = await d.db.all<{ folded: number | string }>(sql`
      WITH turn AS (SELECT pg_try_advisory_xact_lock(${FOLD_LOCK}) AS ours),
      gone AS (
        DELETE FROM run_count_changes WHERE (SELECT ours FROM turn) RETURNING flow_name, status, delta
      ),
      folded AS (
        INSERT INTO run_count_changes (flow_name, status, delta)
        SELECT flow_name, status, SUM(delta) FROM gone GROUP BY flow_name, status HAVING SUM(delta) <> 0
      )
      SELECT COUNT(*) AS folded FROM gone`)
    return Number(rows[0]?.folded ?? 0)
  }
  // SQLite: one writer at a time, so two statements in one transaction see the same rows.
  return d.transaction(async (q) => {
    const last = await q.all<{ id: number | null }>(sql`SELECT MAX(id) AS id FROM run_count_changes`)
    const upTo = Number(last[0]?.id ?? 0)
    await q.run(sql`
      INSERT INTO run_count_changes (flow_name, status, delta)
      SELECT flow_name, status, SUM(delta) FROM run_count_changes WHERE id <= ${upTo}
      GROUP BY flow_name, status HAVING SUM(delta) <> 0`)
    return q.run(sql`DELETE FROM run_count_changes WHERE id <= ${upTo}`)
  })
}
