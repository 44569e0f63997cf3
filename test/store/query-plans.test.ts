// The claims run on every tick, so they must read only what is claimable, however much else the
// database holds; a stage post must read only the steps it names, however long its run. SQLite
// picks its plan without statistics (MaxQ never runs ANALYZE): these are the plans it gets on a
// freshly migrated file, where nothing steers it but the SQL itself.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql, type SQL } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrateLatest } from '../../db/migrate.js'
import { flowCallClaimStatement } from '../../db/queries/claim-flow-calls.js'
import { namedSteps } from '../../db/queries/schedule-stage.js'
import type { Dialect } from '../../db/sql-executor.js'
import { openSqlite } from '../../db/sqlite/open-sqlite.js'
import { openDialect } from '../../db/open-dialect.js'
import { createPostgresDatabase } from '../support/dialects.js'

describe('plans of the per-step and per-stage statements on SQLite', () => {
  let dir: string
  let d: Dialect

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'maxq-plans-'))
    d = openSqlite(join(dir, 'plans.db'))
    await migrateLatest(d)
  })
  afterAll(async () => {
    await d.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const plan = async (statement: SQL): Promise<string> =>
    (await d.db.all<{ detail: string }>(sql`EXPLAIN QUERY PLAN ${statement}`))
      .map((row) => row.detail)
      .join('\n')

  it('claims flow calls from the queued calls’ partial index, never from the open runs', async () => {
    const claim = flowCallClaimStatement(d, { workerId: 'w', limit: 10 }, 1_000)
    const text = await plan(claim)
    expect(text).toMatch(/SEARCH f USING INDEX flow_calls_claimable/)
    expect(text).toMatch(/SEARCH r USING INDEX sqlite_autoindex_runs_1 \(id=\?\)/)
    expect(text).not.toMatch(/runs_status_created_at/)
  })

  it('reads only the steps a stage post names, by key, not the run’s other steps', async () => {
    const text = await plan(namedSteps(d, 'run', ['a', 'b', 'c']))
    expect(text).toMatch(/SEARCH steps USING INDEX sqlite_autoindex_steps_1 \(run_id=\? AND step_id=\?\)/)
    expect(text).not.toMatch(/SCAN steps/)
  })
})

describe('plans on PostgreSQL', () => {
  let d: Dialect
  let drop: () => Promise<void>
  const runId = 'long-run'

  beforeAll(async () => {
    const database = await createPostgresDatabase()
    drop = database.drop
    d = await openDialect({ databaseUrl: database.databaseUrl })
    // One run with 2,000 steps, and statistics that know it: reading all of them is then the
    // planner's cheapest way to answer an `IN (SELECT …)` of a set-returning function.
    await d.db.execScript(`
      INSERT INTO runs (id, flow_name, status, created_at, updated_at)
        VALUES ('${runId}', 'demo', 'running', 0, 0);
      INSERT INTO steps (run_id, step_id, flow_name, stage_seq, stage_name, name, status, depends_on,
          unmet_deps, max_retries, env, created_at, updated_at)
        SELECT '${runId}', 's' || i, 'demo', 1, 'one', 'step', 'completed', '[]', 0, 0, '{}', 0, 0
        FROM generate_series(1, 2000) AS i;
      ANALYZE steps;`)
  })
  afterAll(async () => {
    await d.close()
    await drop()
  })

  it('reads only the steps a stage post names, by key, however long the run', async () => {
    const rows = await d.db.all<{ 'QUERY PLAN': string }>(
      sql`EXPLAIN ${namedSteps(d, runId, ['s1', 's2', 'new'])}`,
    )
    const text = rows.map((row) => row['QUERY PLAN']).join('\n')
    expect(text).toMatch(/Index Scan using steps_run_id_step_id_key on steps/)
    expect(text).toMatch(/step_id = ANY/)
    expect(text).not.toMatch(/Seq Scan on steps/)
  })
})
