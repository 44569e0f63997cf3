// The claims run on every tick, so they must read only what is claimable, however much else the
// database holds. SQLite picks its plan without statistics (MaxQ never runs ANALYZE): these are
// the plans it gets on a freshly migrated file, where nothing steers it but the SQL itself.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql, type SQL } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrateLatest } from '../../db/migrate.js'
import { flowCallClaimStatements } from '../../db/queries/claim-flow-calls.js'
import type { Dialect } from '../../db/sql-executor.js'
import { openSqlite } from '../../db/sqlite/open-sqlite.js'

describe('claim plans on SQLite', () => {
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
    const [claim] = flowCallClaimStatements(d, { workerId: 'w', limit: 10 }, 1_000)
    const text = await plan(claim)
    expect(text).toMatch(/SEARCH f USING INDEX flow_calls_claimable/)
    expect(text).toMatch(/SEARCH r USING INDEX sqlite_autoindex_runs_1 \(id=\?\)/)
    expect(text).not.toMatch(/runs_status_created_at/)
  })
})
