// Each database as a bare Dialect on an empty database of its own, for tests of the seam itself
// (no migrations, no store).

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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
