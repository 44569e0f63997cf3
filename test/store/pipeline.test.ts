// The ordering contract of a transaction's `pipeline` and `beforeCommit` tail (db/sql-executor.ts
// TxExecutor), on both databases: statements run in the order given, each seeing what the earlier
// ones wrote; the tail runs after everything the work sent, and its answers are read only once the
// transaction committed; a failure anywhere keeps nothing. On PostgreSQL the statements travel in
// one flight, so these tests fail if the order on the wire is not the order given.

import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import type { Tail } from '../../db/sql-executor.js'
import { notesTablePerTest, rawDialects } from '../support/raw-dialects.js'

const plain = (rows: Record<string, unknown>[]): Record<string, unknown>[] => rows.map((row) => ({ ...row }))

describe.each(rawDialects)('a transaction’s pipeline and tail on $name', (dialect) => {
  const table = notesTablePerTest(dialect)
  const notes = table.notes

  it('runs a pipeline in the order given: each statement sees the ones before it', async () => {
    const answers = await table
      .d()
      .transaction(async (tx) =>
        tx.pipeline([
          sql`INSERT INTO t VALUES (1, 'a')`,
          sql`UPDATE t SET note = note || 'b' WHERE id = 1 RETURNING note`,
          sql`UPDATE t SET note = note || 'c' WHERE id = 1 RETURNING note`,
          sql`SELECT COUNT(*) AS n FROM t`,
        ]),
      )
    // Out of order, an UPDATE would run before the INSERT and answer no row.
    expect(answers.map(plain)).toEqual([[], [{ note: 'ab' }], [{ note: 'abc' }], [{ n: 1 }]])
    expect(await notes()).toEqual(['abc'])
  })

  it('runs many statements of one pipeline in order', async () => {
    const steps = Array.from(
      { length: 50 },
      (_, i) => sql`UPDATE t SET note = note || ${String(i % 10)} WHERE id = 1`,
    )
    await table.d().transaction(async (tx) => tx.pipeline([sql`INSERT INTO t VALUES (1, '')`, ...steps]))
    expect(await notes()).toEqual(['0123456789'.repeat(5)])
  })

  it('runs the tail after everything the work sent, in the order queued, and answers it after COMMIT', async () => {
    let tail: Tail | undefined
    let earlyRead: unknown
    const result = await table.d().transaction(async (tx) => {
      tail = tx.beforeCommit([sql`UPDATE t SET note = note || '+tail' WHERE id = 1 RETURNING note`])
      try {
        tail.rows()
      } catch (error) {
        earlyRead = error
      }
      // Queued first, but sent after this statement: the tail is the transaction's last.
      await tx.run(sql`INSERT INTO t VALUES (1, 'work')`)
      tx.beforeCommit([sql`INSERT INTO t VALUES (2, 'second tail')`])
      return 'done'
    })
    expect(result).toBe('done')
    expect(earlyRead).toBeInstanceOf(Error)
    expect(tail?.rows().map(plain)).toEqual([[{ note: 'work+tail' }]])
    expect(await notes()).toEqual(['work+tail', 'second tail'])
  })

  it('keeps nothing when a tail statement fails, throws it, and the next transaction commits', async () => {
    await table.d().db.run(sql`INSERT INTO t VALUES (1, 'kept')`)
    const failing = table.d().transaction(async (tx) => {
      await tx.pipeline([
        sql`UPDATE t SET note = 'changed' WHERE id = 1`,
        sql`INSERT INTO t VALUES (2, 'new')`,
      ])
      tx.beforeCommit([sql`INSERT INTO t VALUES (1, 'duplicate')`, sql`INSERT INTO t VALUES (3, 'after')`])
      return 'never answered'
    })
    await expect(failing).rejects.toThrow(/UNIQUE|duplicate key/)
    expect(await notes()).toEqual(['kept'])

    await table.d().transaction(async (tx) => {
      tx.beforeCommit([sql`INSERT INTO t VALUES (4, 'next')`])
    })
    expect(await notes()).toEqual(['kept', 'next'])
  })

  it('fails the pipeline and keeps nothing when one of its statements fails', async () => {
    await table.d().db.run(sql`INSERT INTO t VALUES (1, 'kept')`)
    const failing = table.d().transaction(async (tx) => {
      await tx.pipeline([
        sql`UPDATE t SET note = 'changed' WHERE id = 1`,
        sql`INSERT INTO t VALUES (1, 'duplicate')`,
        sql`INSERT INTO t VALUES (3, 'after the failure')`,
      ])
    })
    await expect(failing).rejects.toThrow(/UNIQUE|duplicate key/)
    expect(await notes()).toEqual(['kept'])
  })
})
