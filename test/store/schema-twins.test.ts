// The two dialects describe one schema: same tables, columns, nullability, keys and indexes in
// db/sqlite/schema.ts and db/postgres/schema.ts, and each file matches what its migrations create.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import { getTableConfig as pgTableConfig, type PgTable } from 'drizzle-orm/pg-core'
import { getTableConfig as sqliteTableConfig, type SQLiteTable } from 'drizzle-orm/sqlite-core'
import { describe, expect, it } from 'vitest'
import { migrateLatest, migrateRollback } from '../../db/migrate.js'
import { openDialect } from '../../db/open-dialect.js'
import * as pgSchema from '../../db/postgres/schema.js'
import type { Dialect } from '../../db/sql-executor.js'
import * as sqliteSchema from '../../db/sqlite/schema.js'
import { createPostgresDatabase } from '../support/dialects.js'

interface TableShape {
  columns: Array<{ name: string; notNull: boolean; primary: boolean }>
  primaryKeys: string[][]
  uniques: string[][]
  indexes: string[]
  foreignKeys: number
}

type Shapes = Record<string, TableShape>

function shapeOf(config: {
  columns: Array<{ name: string; notNull: boolean; primary: boolean }>
  primaryKeys: Array<{ columns: Array<{ name: string }> }>
  uniqueConstraints: Array<{ columns: Array<{ name: string }> }>
  indexes: Array<{ config: { name?: string } }>
  foreignKeys: unknown[]
}): TableShape {
  return {
    columns: config.columns.map((c) => ({ name: c.name, notNull: c.notNull, primary: c.primary })),
    primaryKeys: config.primaryKeys.map((pk) => pk.columns.map((c) => c.name)),
    uniques: config.uniqueConstraints.map((u) => u.columns.map((c) => c.name)),
    indexes: config.indexes.map((i) => i.config.name ?? '').sort(),
    foreignKeys: config.foreignKeys.length,
  }
}

function sqliteShapes(): Shapes {
  const out: Shapes = {}
  for (const table of Object.values(sqliteSchema) as SQLiteTable[]) {
    const config = sqliteTableConfig(table)
    out[config.name] = shapeOf(config)
  }
  return out
}

function pgShapes(): Shapes {
  const out: Shapes = {}
  for (const table of Object.values(pgSchema) as PgTable[]) {
    const config = pgTableConfig(table)
    out[config.name] = shapeOf(config)
  }
  return out
}

/**
 * The newest down file undoes its up file: the columns or indexes change, and applying it again
 * restores them.
 */
async function expectRollbackAndReapply(dialect: Dialect): Promise<void> {
  const before = await migratedSchema(dialect)
  const newest = await migrateRollback(dialect)
  expect(await migratedSchema(dialect)).not.toEqual(before)
  expect(await migrateLatest(dialect)).toEqual([newest])
  expect(await migratedSchema(dialect)).toEqual(before)
}

/** Columns and index names, as the migrated database has them. */
async function migratedSchema(dialect: Dialect): Promise<unknown> {
  const indexes =
    dialect.name === 'sqlite'
      ? await dialect.db.all<{ name: string }>(
          sql`SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name`,
        )
      : await dialect.db.all<{ name: string }>(
          sql`SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexname`,
        )
  return { columns: await migratedColumns(dialect), indexes: indexes.map((row) => row.name) }
}

/** Table → column names, as the migrated database has them, in column order. */
async function migratedColumns(dialect: Dialect): Promise<Record<string, string[]>> {
  const rows =
    dialect.name === 'sqlite'
      ? await dialect.db.all<{ table_name: string; column_name: string }>(sql`
          SELECT m.name AS table_name, p.name AS column_name
          FROM sqlite_master m, pragma_table_info(m.name) p
          WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> 'maxq_migrations'
          ORDER BY m.name, p.cid`)
      : await dialect.db.all<{ table_name: string; column_name: string }>(sql`
          SELECT table_name, column_name FROM information_schema.columns
          WHERE table_schema = 'public' AND table_name <> 'maxq_migrations'
          ORDER BY table_name, ordinal_position`)
  const out: Record<string, string[]> = {}
  for (const row of rows) (out[row.table_name] ??= []).push(row.column_name)
  return out
}

const columnsOf = (shapes: Shapes): Record<string, string[]> =>
  Object.fromEntries(
    Object.entries(shapes).map(([table, shape]) => [table, shape.columns.map((c) => c.name)]),
  )

describe('schema twins', () => {
  it('has the same tables, columns, keys and indexes in both dialects', () => {
    const sqlite = sqliteShapes()
    expect(Object.keys(sqlite).sort()).toEqual([
      'attempts',
      'flow_calls',
      'logs',
      'run_count_changes',
      'runs',
      'schedule_slots',
      'settings',
      'stages',
      'step_dependencies',
      'steps',
      'workers',
    ])
    expect(pgShapes()).toEqual(sqlite)
  })

  it('matches what the SQLite migrations create', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'maxq-schema-'))
    const dialect = await openDialect({ sqlitePath: join(dir, 'maxq.db') })
    try {
      await migrateLatest(dialect)
      expect(await migratedColumns(dialect)).toEqual(columnsOf(sqliteShapes()))
      await expectRollbackAndReapply(dialect)
    } finally {
      await dialect.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('matches what the PostgreSQL migrations create', async () => {
    const { databaseUrl, drop } = await createPostgresDatabase({ empty: true })
    const dialect = await openDialect({ databaseUrl })
    try {
      expect(await migrateLatest(dialect)).toEqual([
        '0001_init',
        '0002_claim_order',
        '0003_exit_token',
        '0004_settings',
        '0005_flow_call_refusal',
        '0006_run_secrets',
        '0007_drop_exit_token',
        '0008_workers',
        '0009_schedule_slots',
        '0010_runs_finished',
        '0011_attempts',
        '0012_flow_call_termination',
        '0015_run_list_order',
        '0016_run_counts',
      ])
      expect(await migratedColumns(dialect)).toEqual(columnsOf(pgShapes()))
      await expectRollbackAndReapply(dialect)
    } finally {
      await dialect.close()
      await drop()
    }
  })
})
