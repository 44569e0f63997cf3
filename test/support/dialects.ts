// The databases every store behaviour is tested on. SQLite is a temp file per store; PostgreSQL
// is MAXQ_TEST_DATABASE_URL or a throwaway cluster started by test/support/postgres-cluster.ts.

import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { inject } from 'vitest'
import { openStore } from '../../db/open-store.js'
import type { SystemLog } from '../../db/sql-executor.js'
import type { Store } from '../../db/store.js'

export interface TestDatabase {
  name: 'sqlite' | 'postgres'
  /** A fresh, empty, migrated store and a function that closes and removes it; `systemLog` hears it. */
  open(
    systemLog?: SystemLog,
  ): Promise<{ store: Store; databaseEnv: Record<string, string>; dispose(): Promise<void> }>
}

export const sqliteDatabase: TestDatabase = {
  name: 'sqlite',
  async open(systemLog) {
    const dir = mkdtempSync(join(tmpdir(), 'maxq-test-'))
    const sqlitePath = join(dir, 'maxq.db')
    const store = await openStore({ sqlitePath }, systemLog)
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

/** The server test/support/global-setup.ts started or was given. */
export function postgresServerUrl(): string {
  const url = process.env.MAXQ_TEST_DATABASE_URL || inject('maxqTestDatabaseUrl')
  if (!url) throw new Error('maxq tests: no PostgreSQL URL; is test/support/global-setup.ts registered?')
  return url
}

/** A database URL on the test server. */
export function postgresDatabaseUrl(database: string): string {
  const url = new URL(postgresServerUrl())
  url.pathname = `/${database}`
  return url.toString()
}

let admin: postgres.Sql | null = null

/**
 * Runs one statement on the server's maintenance database. The connection is shared by the tests
 * of this worker and closes itself when idle, so it never keeps the worker alive.
 */
async function onServer(statement: string): Promise<void> {
  admin ??= postgres(postgresServerUrl(), { max: 2, idle_timeout: 1, onnotice: () => undefined })
  await admin.unsafe(statement)
}

/**
 * A fresh database on the test server; `drop` removes it. By default it is a copy of the template
 * that global-setup migrated once (openStore then finds nothing to apply), which saves each test
 * the migration; `{ empty: true }` answers a database with no tables, for migration tests. Names
 * are random and made of [a-z0-9_] only, so they are safe to put in the statements as they are.
 */
export async function createPostgresDatabase(
  options: { empty?: boolean } = {},
): Promise<{ databaseUrl: string; drop(): Promise<void> }> {
  const name = `maxq_test_${randomBytes(6).toString('hex')}`
  const template = options.empty ? 'template1' : inject('maxqTestTemplateDatabase')
  await onServer(`CREATE DATABASE ${name} TEMPLATE ${template}`)
  return {
    databaseUrl: postgresDatabaseUrl(name),
    drop: () => onServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  }
}

export const postgresDatabase: TestDatabase = {
  name: 'postgres',
  async open(systemLog) {
    const { databaseUrl, drop } = await createPostgresDatabase()
    const store = await openStore({ databaseUrl }, systemLog).catch(async (error: unknown) => {
      await drop()
      throw error
    })
    return {
      store,
      databaseEnv: { MAXQ_DATABASE_URL: databaseUrl },
      async dispose() {
        await store.close()
        await drop()
      },
    }
  },
}

export const testDatabases: TestDatabase[] = [sqliteDatabase, postgresDatabase]
