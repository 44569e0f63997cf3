// Each database as a bare Dialect on an empty database of its own, for tests of the seam itself
// (no migrations, no store).

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import { afterEach, beforeEach } from 'vitest'
import { openPostgres } from '../../db/postgres/open-postgres.js'
import type { Dialect } from '../../db/sql-executor.js'
import { openSqlite } from '../../db/sqlite/open-sqlite.js'
import { createPostgresDatabase } from './dialects.js'

export interface RawDialect {
  name: 'sqlite' | 'postgres'
  open(): Promise<{ d: Dialect; drop: () => Promise<void> }>
}

export const rawDialects: RawDialect[] = [
  {
    name: 'sqlite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'maxq-dialect-'))
      const d = openSqlite(join(dir, 'test.db'))
      return { d, drop: async () => rmSync(dir, { recursive: true, force: true }) }
    },
  },
  {
    name: 'postgres',
    async open() {
      const database = await createPostgresDatabase({ empty: true })
      return { d: await openPostgres(database.databaseUrl), drop: database.drop }
    },
  },
]

export interface NotesTable {
  /** The dialect opened for the current test. */
  d(): Dialect
  /** The table's notes, by id. */
  notes(): Promise<string[]>
}

/** Opens the dialect on a fresh database around each test, with a table `t (id int, note text)`. */
export function notesTablePerTest(dialect: RawDialect): NotesTable {
  let d: Dialect | undefined
  let drop: () => Promise<void> = async () => undefined
  beforeEach(async () => {
    ;({ d, drop } = await dialect.open())
    await d.db.execScript('CREATE TABLE t (id int PRIMARY KEY, note text)')
  })
  afterEach(async () => {
    await d?.close()
    await drop()
  })
  const current = (): Dialect => {
    if (d === undefined) throw new Error('notesTablePerTest: no test is running')
    return d
  }
  return {
    d: current,
    notes: async () =>
      (await current().db.all<{ note: string }>(sql`SELECT note FROM t ORDER BY id`)).map((row) => row.note),
  }
}
