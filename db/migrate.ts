// Numbered SQL migrations with down files, one folder per dialect, applied in one transaction
// each and recorded in `maxq_migrations`. drizzle-kit writes no down files, so rollback is ours.

import { readdir, readFile, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { sql } from 'drizzle-orm'
import type { Dialect } from './sql-executor.js'

export interface MigrationStatus {
  name: string
  appliedAt: number | null
}

// The .sql files are not compiled: they stay in the package's db/<dialect>/migrations, beside this
// module when it runs from source (db/migrate.ts, under vitest) and two levels up from the
// compiled one (dist/db/migrate.js; tsconfig's outDir is dist with rootDir the package root).
const MODULE_DIR = dirname(fileURLToPath(import.meta.url))
const DB_DIR = basename(dirname(MODULE_DIR)) === 'dist' ? join(MODULE_DIR, '..', '..', 'db') : MODULE_DIR

export function migrationsDir(dialect: Dialect['name']): string {
  return join(DB_DIR, dialect, 'migrations')
}

async function migrationNames(dialect: Dialect['name']): Promise<string[]> {
  const files = await readdir(migrationsDir(dialect))
  return files
    .filter((file) => file.endsWith('.up.sql'))
    .map((file) => file.slice(0, -'.up.sql'.length))
    .sort()
}

async function ensureTable(dialect: Dialect): Promise<void> {
  const create =
    'CREATE TABLE IF NOT EXISTS maxq_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)'
  try {
    await dialect.db.execScript(create)
  } catch {
    // PostgreSQL: two processes starting on a fresh database can race inside CREATE TABLE IF NOT
    // EXISTS (a unique violation on the catalog). The loser finds the table made on a second try.
    await dialect.db.execScript(create)
  }
}

async function appliedNames(dialect: Dialect): Promise<Map<string, number>> {
  await ensureTable(dialect)
  const rows = await dialect.db.all<{ name: string; applied_at: number | string }>(
    sql`SELECT name, applied_at FROM maxq_migrations ORDER BY name`,
  )
  return new Map(rows.map((row) => [row.name, Number(row.applied_at)]))
}

export async function migrationStatus(dialect: Dialect): Promise<MigrationStatus[]> {
  const applied = await appliedNames(dialect)
  const names = new Set([...(await migrationNames(dialect.name)), ...applied.keys()])
  return [...names].sort().map((name) => ({ name, appliedAt: applied.get(name) ?? null }))
}

/** Applies every pending migration in order; answers the names applied. */
export async function migrateLatest(dialect: Dialect): Promise<string[]> {
  const applied = await appliedNames(dialect)
  const done: string[] = []
  for (const name of await migrationNames(dialect.name)) {
    if (applied.has(name)) continue
    const script = await readFile(join(migrationsDir(dialect.name), `${name}.up.sql`), 'utf8')
    await dialect.transaction(async (tx) => {
      // Another process may have applied it since we looked: the primary key makes that a no-op.
      const claimed = await tx.run(
        sql`INSERT INTO maxq_migrations (name, applied_at) VALUES (${name}, ${Date.now()}) ON CONFLICT (name) DO NOTHING`,
      )
      if (claimed === 1) await tx.execScript(script)
    })
    done.push(name)
  }
  return done
}

/** Rolls back the newest applied migration; answers its name, or null when none is applied. */
export async function migrateRollback(dialect: Dialect): Promise<string | null> {
  const applied = [...(await appliedNames(dialect)).keys()].sort()
  const name = applied.at(-1)
  if (name === undefined) return null
  const script = await readFile(join(migrationsDir(dialect.name), `${name}.down.sql`), 'utf8')
  await dialect.transaction(async (tx) => {
    await tx.execScript(script)
    await tx.run(sql`DELETE FROM maxq_migrations WHERE name = ${name}`)
  })
  return name
}

/** Writes empty up and down files for a new migration in both dialect folders. */
export async function makeMigration(label: string): Promise<string[]> {
  const safe = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '')
  if (safe === '') throw new Error('maxq: a migration needs a name')
  const existing = await migrationNames('sqlite')
  const next = String(existing.length + 1).padStart(4, '0')
  const written: string[] = []
  for (const dialect of ['sqlite', 'postgres'] as const) {
    for (const direction of ['up', 'down']) {
      const file = join(migrationsDir(dialect), `${next}_${safe}.${direction}.sql`)
      await writeFile(file, `-- ${next}_${safe} (${direction}, ${dialect})\n`, { flag: 'wx' })
      written.push(file)
    }
  }
  return written
}
