// A transaction's last statements can be handed to `commitWith`: COMMIT goes out behind them
// without waiting for their answers (on PostgreSQL in the same round trip). What must hold on both
// databases: they commit with the rest, the work's result is answered only after the commit, and a
// failure among them keeps nothing, is thrown, and leaves the connection clean.

import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { notesTablePerTest, rawDialects } from '../support/raw-dialects.js'

describe.each(rawDialects)('commitWith on $name', (dialect) => {
  const table = notesTablePerTest(dialect)
  const notes = table.notes

  it('commits the handed-over statements with the others and answers the work result', async () => {
    const result = await table.d().transaction(async (tx, _wake, commitWith) => {
      await tx.run(sql`INSERT INTO t VALUES (1, 'awaited')`)
      commitWith(
        Promise.all([
          tx.run(sql`INSERT INTO t VALUES (2, 'tail')`),
          tx.run(sql`UPDATE t SET note = note || '+' WHERE id = 1`),
        ]),
      )
      return 'done'
    })
    expect(result).toBe('done')
    expect(await notes()).toEqual(['awaited+', 'tail'])
  })

  it('keeps nothing when a handed-over statement fails, throws it, and the next one commits', async () => {
    await table.d().db.run(sql`INSERT INTO t VALUES (1, 'kept')`)
    const failing = table.d().transaction(async (tx, _wake, commitWith) => {
      await tx.run(sql`UPDATE t SET note = 'changed' WHERE id = 1`)
      commitWith(
        Promise.all([
          tx.run(sql`INSERT INTO t VALUES (2, 'new')`),
          tx.run(sql`INSERT INTO t VALUES (1, 'duplicate')`),
        ]),
      )
      return 'never answered'
    })
    await expect(failing).rejects.toThrow(/UNIQUE|duplicate key/)
    expect(await notes()).toEqual(['kept'])

    await table.d().transaction(async (tx, _wake, commitWith) => {
      commitWith(tx.run(sql`INSERT INTO t VALUES (3, 'next')`))
    })
    expect(await notes()).toEqual(['kept', 'next'])
  })
})
