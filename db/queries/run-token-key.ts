import { randomBytes } from 'node:crypto'
import { sql } from 'drizzle-orm'
import type { SqlExecutor } from '../sql-executor.js'

const NAME = 'run_token_key'

/**
 * The key that signs run tokens: made by the first process that asks, read by every other. Two
 * processes starting at once both try to insert; the first insert wins and both read its value.
 */
export async function runTokenKey(q: SqlExecutor): Promise<string> {
  const candidate = randomBytes(32).toString('base64url')
  await q.run(sql`INSERT INTO settings (name, value) VALUES (${NAME}, ${candidate}) ON CONFLICT DO NOTHING`)
  const rows = await q.all<{ value: string }>(sql`SELECT value FROM settings WHERE name = ${NAME}`)
  const value = rows[0]?.value
  if (value === undefined) throw new Error('maxq: the run token key could not be stored')
  return value
}
