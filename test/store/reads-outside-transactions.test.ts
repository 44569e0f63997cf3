// Statements outside a transaction, on both databases: a read sees what was committed and never a
// transaction still in flight in the same process (on SQLite it runs on its own connection, with
// no lock, so it does not wait for that transaction either); a statement that writes still works
// there; and a FixedQuery runs like the `sql` template it was written as, rendered once. On SQLite
// the reads asked in one turn of the event loop are answered together, in one read transaction.

import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { sql, type Query, type SQL } from 'drizzle-orm'
import { SQLiteSyncDialect } from 'drizzle-orm/sqlite-core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FixedQuery, renderQuery } from '../../db/fixed-query.js'
import { DEFAULT_POOL_SIZE } from '../../db/open-dialect.js'
import type { Dialect } from '../../db/sql-executor.js'
import { openSqlite } from '../../db/sqlite/open-sqlite.js'
import { notesTablePerTest, rawDialects } from '../support/raw-dialects.js'

/** The integers 1..n as rows of one column `value`, on both databases. */
const numbers = (n: number): SQL =>
  sql`WITH RECURSIVE n(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM n WHERE value < ${n}) SELECT value FROM n`

const plain = (rows: Record<string, unknown>[]): Record<string, unknown>[] => rows.map((row) => ({ ...row }))

describe.each(rawDialects)('statements outside a transaction on $name', (dialect) => {
  const table = notesTablePerTest(dialect)

  it('read what was committed while a transaction of the same process is in flight, without waiting for it', async () => {
    const d = table.d()
    await d.db.run(sql`INSERT INTO t VALUES (1, 'committed')`)
    let release: () => void = () => undefined
    const held = new Promise<void>((resolve) => (release = resolve))
    let inside: () => void = () => undefined
    const begun = new Promise<void>((resolve) => (inside = resolve))
    const tx = d.transaction(async (t) => {
      await t.run(sql`UPDATE t SET note = 'in flight' WHERE id = 1`)
      await t.run(sql`INSERT INTO t VALUES (2, 'in flight')`)
      inside()
      await held
    })
    await begun
    // Answered while the transaction holds its changes: only the committed row, as it was.
    expect(plain(await d.db.all(sql`SELECT id, note FROM t ORDER BY id`))).toEqual([
      { id: 1, note: 'committed' },
    ])
    release()
    await tx
    expect(plain(await d.db.all(sql`SELECT id, note FROM t ORDER BY id`))).toEqual([
      { id: 1, note: 'in flight' },
      { id: 2, note: 'in flight' },
    ])
  })

  it('runs a statement that writes and answers rows (UPDATE … RETURNING), and the next read sees it', async () => {
    const d = table.d()
    await d.db.run(sql`INSERT INTO t VALUES (1, 'a')`)
    expect(plain(await d.db.all(sql`UPDATE t SET note = note || 'b' WHERE id = 1 RETURNING note`))).toEqual([
      { note: 'ab' },
    ])
    expect(plain(await d.db.all(sql`SELECT note FROM t`))).toEqual([{ note: 'ab' }])
  })

  it('answers lookups while every pooled connection is in a transaction, each with its own rows', async () => {
    const d = table.d()
    await d.db.run(sql`INSERT INTO t SELECT value, 'note ' || value FROM (${numbers(50)}) AS n`)
    let release: () => void = () => undefined
    const held = new Promise<void>((resolve) => (release = resolve))
    const started: Promise<void>[] = []
    const transactions = Array.from({ length: DEFAULT_POOL_SIZE }, () => {
      let begun: () => void = () => undefined
      started.push(new Promise<void>((resolve) => (begun = resolve)))
      return d.transaction(async (tx) => {
        await tx.all(sql`SELECT id FROM t WHERE id = 1`)
        begun()
        await held
      })
    })
    // SQLite has one writing connection: the other transactions wait behind the first.
    await (dialect.name === 'sqlite' ? started[0] : Promise.all(started))
    const ids = Array.from({ length: 50 }, (_, i) => i + 1)
    const answers = await Promise.all(
      ids.map((id) => d.lookup<Record<string, unknown>>(sql`SELECT note FROM t WHERE id = ${id}`)),
    )
    expect(answers.map(plain)).toEqual(ids.map((id) => [{ note: `note ${id}` }]))
    release()
    await Promise.all(transactions)
  })

  it('runs a FixedQuery with each call’s values, as the template it was written as', async () => {
    const d = table.d()
    await d.db.run(sql`INSERT INTO t VALUES (1, 'one'), (2, 'two'), (3, 'three')`)
    const between = new FixedQuery<{ low: number; high: number }>(
      (value) => sql`SELECT note FROM t WHERE id >= ${value('low')} AND id <= ${value('high')} ORDER BY id`,
    )
    expect(plain(await d.db.all(between.with({ low: 1, high: 2 })))).toEqual([
      { note: 'one' },
      { note: 'two' },
    ])
    expect(plain(await d.db.all(between.with({ low: 3, high: 3 })))).toEqual([{ note: 'three' }])
    const rename = new FixedQuery<{ id: number; note: string }>(
      (value) => sql`UPDATE t SET note = ${value('note')} WHERE id = ${value('id')}`,
    )
    expect(await d.db.run(rename.with({ id: 2, note: 'deux' }))).toBe(1)
    expect(await d.transaction(async (tx) => tx.run(rename.with({ id: 3, note: 'trois' })))).toBe(1)
    expect(plain(await d.db.all(between.with({ low: 2, high: 3 })))).toEqual([
      { note: 'deux' },
      { note: 'trois' },
    ])
  })
})

describe('FixedQuery', () => {
  it('is rendered once per renderer, then only bound', () => {
    const drizzle = new SQLiteSyncDialect()
    let renders = 0
    const counting = {
      sqlToQuery: (query: SQL): Query => {
        renders++
        return drizzle.sqlToQuery(query)
      },
    }
    const byId = new FixedQuery<{ id: string }>((value) => sql`SELECT * FROM runs WHERE id = ${value('id')}`)
    expect(renderQuery(counting, byId.with({ id: 'a' }))).toEqual({
      sql: 'SELECT * FROM runs WHERE id = ?',
      params: ['a'],
    })
    expect(renderQuery(counting, byId.with({ id: 'b' }))).toEqual({
      sql: 'SELECT * FROM runs WHERE id = ?',
      params: ['b'],
    })
    expect(renders).toBe(1)
    // Any other statement is rendered as it comes.
    renderQuery(counting, sql`SELECT 1`)
    expect(renders).toBe(2)
  })

  it('refuses to be rendered by drizzle directly, which would send an empty statement', () => {
    const byId = new FixedQuery<{ id: string }>((value) => sql`SELECT * FROM runs WHERE id = ${value('id')}`)
    expect(() => new SQLiteSyncDialect().sqlToQuery(byId.with({ id: 'a' }))).toThrow(/renderQuery/)
  })
})

describe('SQLite in memory', () => {
  it('reads and writes on its one connection (another would be another database)', async () => {
    const d = openSqlite(':memory:')
    try {
      await d.db.execScript('CREATE TABLE t (id int PRIMARY KEY, note text)')
      await d.transaction(async (tx) => tx.run(sql`INSERT INTO t VALUES (1, 'kept')`))
      expect(plain(await d.db.all(sql`SELECT note FROM t`))).toEqual([{ note: 'kept' }])
    } finally {
      await d.close()
    }
  })

  it('closes both connections of a file database', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'maxq-reader-'))
    const path = join(dir, 'two.db')
    try {
      const d = openSqlite(path)
      await d.db.execScript('CREATE TABLE t (id int PRIMARY KEY)')
      await d.db.all(sql`SELECT * FROM t`)
      expect(existsSync(`${path}-wal`)).toBe(true)
      await d.close()
      // Only the last connection to close checkpoints and removes the WAL.
      expect(existsSync(`${path}-wal`)).toBe(false)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('SQLite reads asked in the same turn', () => {
  let dir = ''
  let d: Dialect
  // Another process's connection: it commits synchronously, between two reads of one turn.
  let other: Database.Database
  const notes = sql`SELECT id, note FROM t ORDER BY id`
  const read = (query: SQL) => d.db.all<Record<string, unknown>>(query)

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'maxq-reads-'))
    d = openSqlite(join(dir, 'reads.db'))
    await d.db.execScript('CREATE TABLE t (id int PRIMARY KEY, note text)')
    other = new Database(join(dir, 'reads.db'))
    other.prepare(`INSERT INTO t VALUES (1, 'one')`).run()
  })

  afterEach(async () => {
    other.close()
    await d.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('see every commit made before they were asked, and the next turn sees later ones', async () => {
    const first = read(notes)
    other.prepare(`INSERT INTO t VALUES (2, 'two')`).run()
    const second = read(notes)
    // One snapshot for both, taken after the last was asked: the first sees the later commit too.
    const both = [
      { id: 1, note: 'one' },
      { id: 2, note: 'two' },
    ]
    expect(plain(await first)).toEqual(both)
    expect(plain(await second)).toEqual(both)
    // The read transaction ended with the turn: a stale snapshot would miss this.
    other.prepare(`INSERT INTO t VALUES (3, 'three')`).run()
    expect(plain(await read(notes))).toHaveLength(3)
  })

  it('answer each read its own rows, and a failing read fails alone', async () => {
    const ids = Array.from({ length: 200 }, (_, i) => i + 10)
    for (const id of ids) other.prepare(`INSERT INTO t VALUES (?, ?)`).run(id, `note ${id}`)
    const reads = ids.map((id) => read(sql`SELECT note FROM t WHERE id = ${id}`))
    const broken = read(sql`SELECT json(${'not json'}) AS bad`)
    const after = read(sql`SELECT count(*) AS n FROM t`)
    await expect(broken).rejects.toThrow(/malformed JSON/)
    expect((await Promise.all(reads)).map(plain)).toEqual(ids.map((id) => [{ note: `note ${id}` }]))
    expect(plain(await after)).toEqual([{ n: 201 }])
  })

  it('are answered before the database closes', async () => {
    const pending = read(notes)
    await d.close()
    expect(plain(await pending)).toEqual([{ id: 1, note: 'one' }])
    d = openSqlite(join(dir, 'reads.db'))
  })
})
