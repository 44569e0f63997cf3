// Every step's end asks whether its stage is settled (db/queries/settle-stage.ts). On PostgreSQL
// that question must cost a few index probes whatever the stage's size: asked as
// `status IN ('pending', 'running')`, it read the stage's finished steps first, so a stage of n
// steps cost its ends about n²/2 rows in all. Measured as the buffers PostgreSQL touches for the
// statement (EXPLAIN ANALYZE), on a new database whose tables have no statistics yet, as a fresh
// installation's are.

import { sql, type SQL } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import postgres from 'postgres'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openStore } from '../../db/open-store.js'
import { releaseDependents } from '../../db/queries/propagate-step-end.js'
import { closeStageStatement } from '../../db/queries/settle-stage.js'
import type { Dialect } from '../../db/sql-executor.js'
import type { Store } from '../../db/store.js'
import { createPostgresDatabase } from '../support/dialects.js'
import { runWithStage } from '../support/drive-run.js'

describe('the settle question on PostgreSQL', () => {
  let store: Store
  let direct: postgres.Sql
  let drop: () => Promise<void>
  let now = 1_000_000
  const tick = () => ++now

  beforeEach(async () => {
    const database = await createPostgresDatabase()
    drop = database.drop
    store = await openStore({ databaseUrl: database.databaseUrl })
    // Planned as the store plans: generic plans (db/postgres/open-postgres.ts).
    direct = postgres(database.databaseUrl, {
      max: 1,
      onnotice: () => undefined,
      connection: { plan_cache_mode: 'force_generic_plan' },
    })
    // What this measures is a fresh installation's plans, made without statistics: an autovacuum
    // ANALYZE during the test could change them (a settle of 106 buffers was seen once in CI).
    await direct.unsafe('ALTER TABLE steps SET (autovacuum_enabled = false)')
  })
  afterEach(async () => {
    await store.close()
    await direct.end()
    await drop()
  })

  /** A one-stage run of n steps, all but the last `open` of them completed. */
  async function stageWithOpenSteps(n: number, open: number): Promise<string> {
    const steps = Array.from({ length: n }, (_, i) => ({ id: `s${String(i).padStart(5, '0')}`, name: 's' }))
    const runId = await runWithStage(store, { stage: 'one', final: true, steps }, tick)
    for (let done = 0; done < n - open;) {
      const claimed = await store.claimReadySteps(
        { workerId: 'w', limit: Math.min(100, n - open - done) },
        tick(),
      )
      for (const step of claimed) await store.recordExit({ lease: step.lease, exitCode: 0 }, tick())
      done += claimed.length
    }
    return runId
  }

  /** Shared buffers PostgreSQL touched to run the settle of the run's stage, rolled back. */
  async function buffersOfSettle(runId: string): Promise<number> {
    const stage = sql`(SELECT MIN(seq) FROM stages WHERE run_id = ${runId})`
    return buffersOf(closeStageStatement(runId, stage, tick()))
  }

  async function buffersOf(statement: SQL): Promise<number> {
    const { sql: text, params } = new PgDialect().sqlToQuery(statement)
    let buffers = -1
    // EXPLAIN ANALYZE runs the UPDATE (which settles nothing here); rolled back all the same.
    await direct
      .begin(async (tx) => {
        const [row] = await tx.unsafe(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${text}`, params as never[])
        const [explained] = (row as unknown as { 'QUERY PLAN': { Plan: Record<string, number> }[] })[
          'QUERY PLAN'
        ]
        buffers = explained!.Plan['Shared Hit Blocks']! + explained!.Plan['Shared Read Blocks']!
        throw new Error('roll back')
      })
      .catch(() => undefined)
    return buffers
  }

  it('reads no finished step of the stage: a stage of 2,000 costs about what a stage of 20 does', async () => {
    const small = await buffersOfSettle(await stageWithOpenSteps(20, 5))
    const large = await buffersOfSettle(await stageWithOpenSteps(2_000, 5))
    expect(small).toBeGreaterThan(0)
    // What grows is the index pages of the claimed steps' old `pending` entries (1,995 here, about
    // 130 to a page), until VACUUM; the old form also read the finished steps: 6 then 97 buffers.
    expect(large).toBeLessThanOrEqual(small + 20)
  })

  it('releases the dependents of an ending step without reading the run’s other steps one by one', async () => {
    // The start of a fan-out: most of its steps still pending.
    const runId = await stageWithOpenSteps(2_000, 1_990)
    const tx = { q: null as never, d: { name: 'postgres' } as Dialect, wake: () => undefined }
    const buffers = await buffersOf(releaseDependents(tx, runId, 's00001', tick()))
    // Planned without statistics, `IN (SELECT …)` joined each pending step of the run with the
    // dependencies: 4,106 buffers here. As an array the run's pending index entries are read at
    // worst (about 110 buffers), and by id once the tables have statistics.
    expect(buffers).toBeGreaterThan(0)
    expect(buffers).toBeLessThan(200)
  })
})
