import { sql } from 'drizzle-orm'
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
  await tx.q.run(sql`
    INSERT INTO logs (run_id, entity_type, entity_id, level, message, metadata, created_at)
    VALUES (${runId}, ${line.entityType}, ${line.entityId ?? null}, ${line.level}, ${line.message},
            ${line.metadata === undefined ? null : tx.d.json(line.metadata)}, ${now})`)
}
