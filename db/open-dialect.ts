import { resolve } from 'node:path'
import type { Dialect } from './sql-executor.js'
import { openSqlite } from './sqlite/open-sqlite.js'

export interface DatabaseConfig {
  /** PostgreSQL connection string; takes precedence over sqlitePath. */
  databaseUrl?: string
  sqlitePath?: string
  /** PostgreSQL connections per process (cli/config.ts reads MAXQ_DATABASE_POOL_SIZE). */
  poolSize?: number
}

export const DEFAULT_SQLITE_PATH = './data/maxq.db'
export const DEFAULT_POOL_SIZE = 10

export async function openDialect(config: DatabaseConfig): Promise<Dialect> {
  if (config.databaseUrl) {
    const { openPostgres } = await import('./postgres/open-postgres.js')
    return openPostgres(config.databaseUrl, { poolSize: config.poolSize ?? DEFAULT_POOL_SIZE })
  }
  const path = config.sqlitePath ?? DEFAULT_SQLITE_PATH
  return openSqlite(path === ':memory:' ? path : resolve(path))
}
