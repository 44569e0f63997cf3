import { migrateLatest } from './migrate.js'
import { openDialect, type DatabaseConfig } from './open-dialect.js'
import { createSqlStore } from './sql-store.js'
import type { Store } from './store.js'

/** Opens the configured database, brings its schema up to date, and answers the Store. */
export async function openStore(config: DatabaseConfig): Promise<Store> {
  const dialect = await openDialect(config)
  try {
    await migrateLatest(dialect)
  } catch (error) {
    await dialect.close()
    throw error
  }
  return createSqlStore(dialect)
}
