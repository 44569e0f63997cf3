// Dialect.batch: statements that need nothing from each other's answers, in one transaction (on
// PostgreSQL BEGIN, the statements and COMMIT travel together). What must hold on both databases:
// in order, each statement's rows answered, all or nothing, and the connection clean afterwards.

import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { notesTablePerTest, rawDialects } from '../support/raw-dialects.js'

describe.each(rawDialects)('Dialect.batch on $name', (dialect) => {
  const table = notesTablePerTest(dialect)
  const notes = table.notes

  it('runs the statements in order and answers each one its rows', async () => {
    const answers = await table
      .d()
      .batch([
        sql`INSERT INTO t VALUES (1, 'a'), (2, 'b')`,
        sql`UPDATE t SET note = note || '!' WHERE id = 2 RETURNING id, note`,
        sql`SELECT COUNT(*) AS n FROM t`,
      ])
    expect(answers.map((rows) => rows.map((row) => ({ ...row })))).toEqual([
      [],
      [{ id: 2, note: 'b!' }],
      [{ n: 2 }],
    ])
    expect(await notes()).toEqual(['a', 'b!'])
  })

  it('keeps nothing when one statement fails, and the next batch commits', async () => {
    await table.d().db.run(sql`INSERT INTO t VALUES (1, 'kept')`)
    const failing = table
      .d()
      .batch([
        sql`UPDATE t SET note = 'changed' WHERE id = 1`,
        sql`INSERT INTO t VALUES (2, 'new')`,
        sql`INSERT INTO t VALUES (1, 'duplicate')`,
        sql`INSERT INTO t VALUES (3, 'after the failure')`,
      ])
    await expect(failing).rejects.toThrow(/UNIQUE|duplicate key/)
    expect(await notes()).toEqual(['kept'])

    await table.d().batch([sql`INSERT INTO t VALUES (4, 'next')`])
    expect(await notes()).toEqual(['kept', 'next'])
  })
})
