// The databases every store behaviour is tested on. SQLite is a temp file per store; PostgreSQL
// is MAXQ_TEST_DATABASE_URL or a throwaway cluster started by test/support/postgres-cluster.ts.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openStore } from '../../db/open-store.js'
import type { Store } from '../../db/store.js'

export interface TestDatabase {
  name: 'sqlite' | 'postgres'
  /** A fresh, empty, migrated store and a function that closes and removes it. */
  open(): Promise<{ store: Store; databaseEnv: Record<string, string>; dispose(): Promise<void> }>
}

export const sqliteDatabase: TestDatabase = {
  name: 'sqlite',
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'maxq-test-'))
    const sqlitePath = join(dir, 'maxq.db')
    const store = await openStore({ sqlitePath })
    return {
      store,
      databaseEnv: { MAXQ_SQLITE_PATH: sqlitePath },
      async dispose() {
        await store.close()
        rmSync(dir, { recursive: true, force: true })
      },
    }
  },
}

export const testDatabases: TestDatabase[] = [sqliteDatabase]
