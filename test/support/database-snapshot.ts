// Every row of every table of a test database, through a second connection, so a test can assert
// that a request changed nothing at all. Rows are compared as sorted JSON text per table.

import Database from 'better-sqlite3'
import postgres from 'postgres'

export type Snapshot = Record<string, string[]>

export interface DatabaseSnapshots {
  take(): Promise<Snapshot>
  close(): Promise<void>
}

const rowText = (row: unknown): string =>
  JSON.stringify(row, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value))

/** `databaseEnv` is what test/support/dialects.ts answers: MAXQ_SQLITE_PATH or MAXQ_DATABASE_URL. */
export function openDatabaseSnapshots(databaseEnv: Record<string, string>): DatabaseSnapshots {
  const url = databaseEnv.MAXQ_DATABASE_URL
  if (url !== undefined) return postgresSnapshots(url)
  const file = databaseEnv.MAXQ_SQLITE_PATH
  if (file === undefined) throw new Error('openDatabaseSnapshots: no MAXQ_DATABASE_URL or MAXQ_SQLITE_PATH')
  return sqliteSnapshots(file)
}

function sqliteSnapshots(file: string): DatabaseSnapshots {
  const db = new Database(file, { readonly: true, fileMustExist: true })
  return {
    async take() {
      const tables = db
        .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
        .all() as { name: string }[]
      const snapshot: Snapshot = {}
      for (const { name } of tables) {
        snapshot[name] = db.prepare(`SELECT * FROM "${name}"`).all().map(rowText).sort()
      }
      return snapshot
    },
    async close() {
      db.close()
    },
  }
}

function postgresSnapshots(url: string): DatabaseSnapshots {
  const sql = postgres(url, { max: 1, onnotice: () => undefined })
  return {
    async take() {
      const tables = await sql<{ name: string }[]>`
        SELECT table_name AS name FROM information_schema.tables
        WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`
      const snapshot: Snapshot = {}
      for (const { name } of tables) {
        const rows = await sql.unsafe<{ row: string }[]>(
          `SELECT row_to_json(t)::text AS row FROM "${name}" t`,
        )
        snapshot[name] = rows.map((r) => r.row).sort()
      }
      return snapshot
    },
    async close() {
      await sql.end()
    },
  }
}
