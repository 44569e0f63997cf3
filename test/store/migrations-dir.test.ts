// db/migrate.ts finds its .sql files from its own location, whether it runs from source (here,
// under vitest) or compiled (dist/db/migrate.js, what `maxq migrate` and `npm start` run).

import { existsSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { migrationsDir } from '../../db/migrate.js'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const compiled = path.join(repoRoot, 'dist', 'db', 'migrate.js')

describe('migrationsDir', () => {
  it.each(['sqlite', 'postgres'] as const)('is db/%s/migrations of the package, from source', (dialect) => {
    const dir = migrationsDir(dialect)
    expect(dir).toBe(path.join(repoRoot, 'db', dialect, 'migrations'))
    expect(readdirSync(dir)).toContain('0001_init.up.sql')
  })

  // `npm test` builds first; a bare `vitest run` on a fresh checkout has no dist/ to load.
  it.skipIf(!existsSync(compiled))('is the same folder from the compiled module in dist/', async () => {
    const built = (await import(pathToFileURL(compiled).href)) as typeof import('../../db/migrate.js')
    expect(built.migrationsDir('sqlite')).toBe(path.join(repoRoot, 'db', 'sqlite', 'migrations'))
    expect(built.migrationsDir('postgres')).toBe(path.join(repoRoot, 'db', 'postgres', 'migrations'))
  })
})
