// Deleting finished runs: one by hand (DELETE /runs/{run}) or a bounded batch of old ones (POST
// /runs/prune, `maxq prune`, the retention sweep). A run's stages, steps, step dependencies,
// flow calls, attempt history and logs reference it with ON DELETE CASCADE (SQLite opens with
// `foreign_keys = ON`), so deleting the run row deletes everything of it in the same statement.
// Fields, captured output and errors are columns of those rows.

import { sql } from 'drizzle-orm'
import type { SqlExecutor } from '../sql-executor.js'
import { fail, ok, type Outcome } from '../types.js'
import type { Tx } from './tx.js'

/** Statuses a run never leaves on its own: only these may be deleted. */
const FINISHED = sql`status IN ('completed', 'failed')`

export interface PruneQuery {
  /** Runs that finished (completed_at) strictly before this, epoch ms. */
  finishedBefore: number
  flowName?: string
  /** Most runs one call deletes (or, with dryRun, lists). */
  limit: number
  dryRun: boolean
}

/**
 * Deletes the run when it is finished. The status condition is part of the DELETE, so a run that a
 * retry reopened in between is not deleted (PostgreSQL re-checks it on the locked row).
 */
export async function deleteRun(tx: Tx, runId: string): Promise<Outcome<{ id: string }>> {
  const deleted = await tx.q.all<{ id: string }>(
    sql`DELETE FROM runs WHERE id = ${runId} AND ${FINISHED} RETURNING id`,
  )
  if (deleted.length > 0) return ok({ id: runId })
  const rows = await tx.q.all<{ status: string }>(sql`SELECT status FROM runs WHERE id = ${runId}`)
  const status = rows[0]?.status
  if (status === undefined) return fail('RUN_NOT_FOUND', { runId })
  return fail('RUN_NOT_FINISHED', { runId, status })
}

const flowFilter = (query: PruneQuery) =>
  query.flowName === undefined ? sql`` : sql` AND flow_name = ${query.flowName}`

/** The oldest finished runs matching the query, at most `limit`, read off runs_finished_completed_at. */
function oldestFinished(query: PruneQuery) {
  return sql`SELECT id FROM runs
    WHERE ${FINISHED} AND completed_at < ${query.finishedBefore}${flowFilter(query)}
    ORDER BY completed_at, id LIMIT ${query.limit}`
}

export interface PruneOutcome {
  /** The runs deleted, or with dryRun the first `limit` that would be, oldest first. */
  runIds: string[]
  /** With dryRun, how many runs match in all; otherwise runIds.length. */
  matched: number
}

/** Lists (dryRun) or deletes one batch of old finished runs, in one statement. */
export async function pruneRuns(db: SqlExecutor, query: PruneQuery): Promise<PruneOutcome> {
  if (!query.dryRun) {
    const rows = await db.all<{ id: string }>(
      sql`DELETE FROM runs WHERE id IN (${oldestFinished(query)}) AND ${FINISHED} RETURNING id`,
    )
    return { runIds: rows.map((row) => row.id), matched: rows.length }
  }
  const rows = await db.all<{ id: string }>(oldestFinished(query))
  const counted = await db.all<{ n: number | string }>(
    sql`SELECT COUNT(*) AS n FROM runs WHERE ${FINISHED} AND completed_at < ${query.finishedBefore}${flowFilter(query)}`,
  )
  return { runIds: rows.map((row) => row.id), matched: Number(counted[0]?.n ?? 0) }
}
