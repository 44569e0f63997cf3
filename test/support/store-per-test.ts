import { afterEach, beforeEach } from 'vitest'
import type { Store } from '../../db/store.js'
import type { TestDatabase } from './dialects.js'

/**
 * Gives every test of the suite a fresh, migrated store on `database` (handed to `use` before the
 * suite's own beforeEach hooks run, when called first) and disposes of it afterwards.
 */
export function storePerTest(database: TestDatabase, use: (store: Store) => void): void {
  let dispose: (() => Promise<void>) | undefined
  beforeEach(async () => {
    const opened = await database.open()
    dispose = opened.dispose
    use(opened.store)
  })
  afterEach(async () => {
    await dispose?.()
    dispose = undefined
  })
}
