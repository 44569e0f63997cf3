import { sql } from 'drizzle-orm'
import { maskJson, maskText } from '../../security/secret-names.js'
import { parseJson, type SqlExecutor } from '../sql-executor.js'
import type { LogQuery, NewLog } from '../store.js'
import { fail, ok, type LogEntry, type Outcome } from '../types.js'
import { mapLog, type Row } from './map-rows.js'
import type { Tx } from './tx.js'

export async function appendLog(tx: Tx, runId: string, log: NewLog, now: number): Promise<Outcome<LogEntry>> {
  const runs = await tx.q.all<Row>(sql`SELECT secrets FROM runs WHERE id = ${runId}`)
  const run = runs[0]
  if (run === undefined) return fail('RUN_NOT_FOUND', { runId })
  // A script that logs one of its run's secret env values writes *** instead.
  const secrets = parseJson<string[]>(run.secrets, [])
  const rows = await tx.q.all<Row>(sql`
    INSERT INTO logs (run_id, entity_type, entity_id, level, message, metadata, created_at)
    VALUES (${runId}, ${log.entityType ?? 'run'}, ${log.entityId ?? null}, ${log.level},
            ${maskText(log.message, secrets)},
            ${log.metadata === undefined ? null : tx.d.json(maskJson(log.metadata, secrets))}, ${now})
    RETURNING *`)
  return ok(mapLog(rows[0]!))
}

/** The newest `limit` entries that match, newest first (in the order they were written). */
export async function listLogs(
  db: SqlExecutor,
  runId: string,
  query: LogQuery,
): Promise<Outcome<LogEntry[]>> {
  const runs = await db.all<Row>(sql`SELECT 1 AS found FROM runs WHERE id = ${runId}`)
  if (runs.length === 0) return fail('RUN_NOT_FOUND', { runId })
  const filters = [sql`run_id = ${runId}`]
  if (query.entityType !== undefined) filters.push(sql`entity_type = ${query.entityType}`)
  if (query.entityId !== undefined) filters.push(sql`entity_id = ${query.entityId}`)
  if (query.level !== undefined) filters.push(sql`level = ${query.level}`)
  const rows = await db.all<Row>(sql`
    SELECT * FROM logs WHERE ${sql.join(filters, sql` AND `)} ORDER BY id DESC LIMIT ${query.limit}`)
  return ok(rows.map(mapLog))
}
