// The PostgreSQL transaction pipelines BEGIN with its first statement and the wake-up NOTIFY with
// COMMIT. What must still hold: all or nothing, and a wake-up only for changes that committed,
// delivered after they are visible.

import { sql } from 'drizzle-orm'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openPostgres } from '../../db/postgres/open-postgres.js'
import type { Dialect, WakeEvent } from '../../db/sql-executor.js'
import { createPostgresDatabase } from '../support/dialects.js'
import { waitFor } from '../support/wait-for.js'

describe('PostgreSQL transactions', () => {
  let writer: Dialect
  let listener: Dialect
  let drop: () => Promise<void>

  beforeEach(async () => {
    const database = await createPostgresDatabase({ empty: true })
    drop = database.drop
    writer = await openPostgres(database.databaseUrl)
    listener = await openPostgres(database.databaseUrl)
    await writer.db.execScript('CREATE TABLE t (id int PRIMARY KEY, note text)')
  })
  afterEach(async () => {
    await Promise.all([writer.close(), listener.close()])
    await drop()
  })

  const count = async (): Promise<number> =>
    Number((await writer.db.all<{ n: number }>(sql`SELECT count(*) AS n FROM t`))[0]?.n)

  it('rolls back every statement when one fails, and sends no wake-up', async () => {
    const events: WakeEvent[] = []
    await listener.listen((event) => events.push(event))
    const failing = writer.transaction(async (tx, wake) => {
      wake('work')
      await tx.run(sql`INSERT INTO t VALUES (1, 'a')`)
      await tx.run(sql`INSERT INTO t VALUES (1, 'duplicate')`)
    })
    await expect(failing).rejects.toThrow(/duplicate key/)
    expect(await count()).toBe(0)

    // The connection went back to the pool clean: the next transaction on it commits.
    await writer.transaction(async (tx, wake) => {
      wake('abort')
      await tx.run(sql`INSERT INTO t VALUES (2, 'b')`)
    })
    await waitFor(() => events.length > 0, { message: 'no wake-up for the committed change' })
    expect(events).toEqual(['abort'])
    expect(await count()).toBe(1)
  })

  it('wakes listeners only once the change is visible to them', async () => {
    const seen: number[] = []
    await listener.listen(() => {
      void listener.db
        .all<{ n: number }>(sql`SELECT count(*) AS n FROM t`)
        .then((rows) => seen.push(Number(rows[0]?.n)))
    })
    for (let i = 1; i <= 5; i++) {
      await writer.transaction(async (tx, wake) => {
        await tx.run(sql`INSERT INTO t VALUES (${i}, 'x')`)
        wake('work')
      })
    }
    await waitFor(() => seen.length === 5, { message: 'not every commit woke the listener' })
    // Each wake-up found at least the row of the transaction that sent it.
    expect(seen.every((n, i) => n >= i + 1)).toBe(true)
  })

  it('does not wake its own listener: the process that changed something woke itself in-process', async () => {
    const own: WakeEvent[] = []
    const others: WakeEvent[] = []
    await writer.listen((event) => own.push(event))
    await listener.listen((event) => others.push(event))
    await writer.transaction(async (tx, wake) => {
      wake('abort')
      await tx.run(sql`INSERT INTO t VALUES (1, 'a')`)
    })
    await writer.notify('work')
    await waitFor(() => others.length === 2, { message: 'the other store was not woken' })
    expect(others).toEqual(['abort', 'work'])
    // A bare NOTIFY (an operator's) wakes every listener. It was sent after the writer's own two,
    // and one session's notifications arrive in commit order: had those reached the writer, they
    // would be in `own` by now.
    await listener.db.all(sql`SELECT pg_notify('maxq_wake', 'work')`)
    await waitFor(() => own.length > 0, { message: 'a bare NOTIFY did not wake the writer' })
    expect(own).toEqual(['work'])
  })

  it('tells nothing when a statement of the tail fails', async () => {
    const events: WakeEvent[] = []
    await listener.listen((event) => events.push(event))
    const failing = writer.transaction(async (tx, wake) => {
      wake('abort')
      await tx.run(sql`INSERT INTO t VALUES (1, 'a')`)
      tx.beforeCommit([sql`INSERT INTO t VALUES (1, 'duplicate')`])
    })
    await expect(failing).rejects.toThrow(/duplicate key/)
    // Notifications arrive in commit order: had the failed one told anything, it would come first.
    await writer.notify('work')
    await waitFor(() => events.length > 0, { message: 'no wake-up at all' })
    expect(events).toEqual(['work'])
    expect(await count()).toBe(0)
  })

  it('returns what the work returns, and runs many transactions at once on the pool', async () => {
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        writer.transaction(async (tx) => {
          await tx.run(sql`INSERT INTO t VALUES (${i}, 'p')`)
          return (await tx.all<{ id: number }>(sql`SELECT id FROM t WHERE id = ${i}`))[0]?.id
        }),
      ),
    )
    expect(results).toEqual(Array.from({ length: 30 }, (_, i) => i))
    expect(await count()).toBe(30)
  })
})

describe('PostgreSQL: a wake-up for the work that is left', () => {
  let writer: Dialect
  let listener: Dialect
  let drop: () => Promise<void>

  beforeEach(async () => {
    const database = await createPostgresDatabase()
    drop = database.drop
    writer = await openPostgres(database.databaseUrl)
    listener = await openPostgres(database.databaseUrl)
  })
  afterEach(async () => {
    await Promise.all([writer.close(), listener.close()])
    await drop()
  })

  it('sends work-left only while something is claimable at its commit', async () => {
    const events: WakeEvent[] = []
    await listener.listen((event) => events.push(event))
    // Nothing claimable: no wake-up (the abort after it arrives first, in commit order).
    await writer.transaction(async (tx, wake) => {
      wake('work-left')
      await tx.run(sql`SELECT 1`)
    })
    await writer.notify('abort')
    await waitFor(() => events.length > 0, { message: 'no wake-up at all' })
    expect(events).toEqual(['abort'])

    // A queued flow call is claimable: the others are told.
    await writer.transaction(async (tx, wake) => {
      await tx.run(sql`INSERT INTO runs (id, flow_name, status, input, metadata, created_at, updated_at)
        VALUES ('r1', 'f', 'pending', '{}', '{}', 0, 0)`)
      await tx.run(sql`INSERT INTO flow_calls (run_id, flow_name, status, available_at, created_at)
        VALUES ('r1', 'f', 'queued', 0, 0)`)
      wake('work-left')
    })
    await waitFor(() => events.length === 2, { message: 'claimable work told nobody' })
    expect(events).toEqual(['abort', 'work'])

    // Taken in the same transaction, before its commit: nothing is left to tell.
    await writer.transaction(async (tx, wake) => {
      wake('work-left')
      tx.beforeCommit([sql`UPDATE flow_calls SET status = 'running' WHERE run_id = 'r1'`])
    })
    await writer.notify('abort')
    await waitFor(() => events.length === 3, { message: 'no wake-up at all' })
    expect(events).toEqual(['abort', 'work', 'abort'])
  })
})
