import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { sql, type SQL } from 'drizzle-orm'
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3'
import type { Dialect, SqlExecutor } from '../sql-executor.js'

/**
 * better-sqlite3 is synchronous, but the queries above it are async so that one body serves both
 * dialects. Between two awaits another request could issue a statement on the same connection,
 * inside our transaction; so every use of the connection goes through one lock.
 */
function createLock(): <T>(work: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve()
  return <T>(work: () => Promise<T>): Promise<T> => {
    const result = tail.then(work, work)
    tail = result.catch(() => undefined)
    return result
  }
}

function executorOf(client: Database.Database, db: BetterSQLite3Database): SqlExecutor {
  return {
    all: async <T>(query: SQL) => db.all<T>(query),
    run: async (query: SQL) => db.run(query).changes,
    execScript: async (script: string) => {
      client.exec(script)
    },
  }
}

export function openSqlite(path: string): Dialect {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const client = new Database(path)
  // WAL lets readers in other processes (a `maxq serve` beside a `maxq tick`) work during a write;
  // NORMAL sync is durable across process crashes, the failure the design is about.
  client.pragma('journal_mode = WAL')
  client.pragma('synchronous = NORMAL')
  client.pragma('busy_timeout = 5000')
  client.pragma('foreign_keys = ON')
  const db = drizzle(client)
  const raw = executorOf(client, db)
  const lock = createLock()

  return {
    name: 'sqlite',
    db: {
      all: <T>(query: SQL) => lock(() => raw.all<T>(query)),
      run: (query: SQL) => lock(() => raw.run(query)),
      execScript: (script: string) => lock(() => raw.execScript(script)),
    },
    transaction: <T>(work: (tx: SqlExecutor) => Promise<T>) =>
      lock(async () => {
        client.exec('BEGIN IMMEDIATE')
        try {
          const result = await work(raw)
          client.exec('COMMIT')
          return result
        } catch (error) {
          if (client.inTransaction) client.exec('ROLLBACK')
          throw error
        }
      }),
    json: (value: unknown) => sql`${JSON.stringify(value ?? null)}`,
    lockRows: sql``,
    skipLocked: sql``,
    close: async () => {
      await lock(async () => client.close())
    },
  }
}
