import { sql, type SQL } from 'drizzle-orm'
import type { Json, LogLevel } from '../types.js'
import type { Tx } from './tx.js'

export interface LogLine {
  entityType: string
  entityId?: string | null
  level: LogLevel
  message: string
  metadata?: Json
}

/** System events go to the same run log that scripts write to. */
export async function writeLog(tx: Tx, runId: string, line: LogLine, now: number): Promise<void> {
  await tx.q.run(logStatement(tx, runId, line, now))
}

/** The same insert as a statement, for a pipeline or a transaction's tail. */
export function logStatement(tx: Pick<Tx, 'd'>, runId: string, line: LogLine, now: number): SQL {
  return sql`
    INSERT INTO logs (run_id, entity_type, entity_id, level, message, metadata, created_at)
    VALUES (${runId}, ${line.entityType}, ${line.entityId ?? null}, ${line.level}, ${line.message},
            ${line.metadata === undefined ? null : tx.d.json(line.metadata)}, ${now})`
}
