import { resolve } from 'node:path'
import type { Dialect } from './sql-executor.js'
import { openSqlite } from './sqlite/open-sqlite.js'

export interface DatabaseConfig {
  /** PostgreSQL connection string; takes precedence over sqlitePath. */
  databaseUrl?: string
  sqlitePath?: string
}

export const DEFAULT_SQLITE_PATH = './data/maxq.db'

export async function openDialect(config: DatabaseConfig): Promise<Dialect> {
  if (config.databaseUrl) {
    const { openPostgres } = await import('./postgres/open-postgres.js')
    return openPostgres(config.databaseUrl)
  }
  const path = config.sqlitePath ?? DEFAULT_SQLITE_PATH
  return openSqlite(path === ':memory:' ? path : resolve(path))
}
