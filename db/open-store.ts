import { migrateLatest } from './migrate.js'
import { openDialect, type DatabaseConfig } from './open-dialect.js'
import type { SystemLog } from './sql-executor.js'
import { createSqlStore, type StoreOptions } from './sql-store.js'
import type { Store } from './store.js'

/**
 * Opens the configured database, brings its schema up to date, and answers the Store. `systemLog`
 * is told each run transition this process commits (cli/ gives the process's log).
 */
export async function openStore(
  config: DatabaseConfig & StoreOptions,
  systemLog?: SystemLog,
): Promise<Store> {
  const dialect = await openDialect(config)
  if (systemLog !== undefined) dialect.systemLog.set(systemLog)
  try {
    await migrateLatest(dialect)
  } catch (error) {
    await dialect.close()
    throw error
  }
  return createSqlStore(dialect, config)
}
