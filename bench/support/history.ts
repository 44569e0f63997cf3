// The growth workload's two databases: one empty and one holding a long history, both migrated by
// MaxQ's own migrations and the history seeded by direct SQL before any server starts on it.
// The history is finished runs (each a completed stage and its completed steps) and the blocked
// steps of other open runs (pending, unmet_deps > 0, available_at NULL: a gate in a cycle, never
// claimable). SQLite seeds a file; PostgreSQL two throwaway databases on the bench's server.

import { existsSync, mkdtempSync, statSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { SQL } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import postgres from 'postgres'
import { renderQuery } from '../../db/fixed-query.js'
import type { DatabaseConfig } from '../../db/open-dialect.js'
import { openStore } from '../../db/open-store.js'
import { renderer } from '../../db/sqlite/statements.js'
import type { BenchContext } from './context.js'
import { createDatabase, type RunningServer, type ThrowawayDatabase } from './server.js'

export interface HistorySize {
  finished: number
  blocked: number
  stepsPerRun: number
}

export interface History {
  empty: DatabaseConfig
  seeded: DatabaseConfig
  /** What the seed added to the database's size, per seeded step. */
  bytesPerStep: number
  /** A MaxQ server on the seeded database. */
  startSeeded(): Promise<RunningServer>
  /** The plan the seeded database makes for a statement, its lines joined with `; `. */
  plan(statement: SQL): Promise<string>
  /** Removes both (once any server on them has stopped). */
  remove(): Promise<void>
}

const BLOCKED_STEPS_PER_RUN = 100

/**
 * The run counts as an install that has run for months holds them: the triggers' +1 rows of the
 * seeded runs folded into one row per flow and status, as migration 0016 and the worker's fold
 * leave them. Left as 100,000 rows, the server's first fold would turn them into dead space that
 * every GET /runs reads on PostgreSQL until autovacuum compacts the table. `clear` is the dialect's
 * way to empty it without leaving that space behind (TRUNCATE on PostgreSQL).
 */
const foldedRunCounts = (clear: string) => `
  ${clear} run_count_changes;
  INSERT INTO run_count_changes (flow_name, status, delta)
    SELECT flow_name, status, COUNT(*) FROM runs GROUP BY flow_name, status;`

/** The seeded runs ended an hour ago. */
const seededAt = (): number => Date.now() - 3_600_000

export async function sqliteHistory(ctx: BenchContext, dir: string, size: HistorySize): Promise<History> {
  const emptyPath = await migratedFile(mkdtempSync(join(dir, 'empty-')))
  const seededPath = await migratedFile(mkdtempSync(join(dir, 'seeded-')))
  const emptyBytes = fileBytes(emptyPath)
  seedFile(seededPath, size)
  return {
    empty: { sqlitePath: emptyPath },
    seeded: { sqlitePath: seededPath },
    bytesPerStep: (fileBytes(seededPath) - emptyBytes) / (size.finished + size.blocked),
    startSeeded: () => ctx.startServer({ sqlitePath: seededPath }),
    plan: async (statement) => {
      const query = renderQuery(renderer, statement)
      const db = new Database(seededPath, { readonly: true })
      try {
        const rows = db.prepare(`EXPLAIN QUERY PLAN ${query.sql}`).all(...(query.params as unknown[]))
        return (rows as { detail: string }[]).map((row) => row.detail).join('; ')
      } finally {
        db.close()
      }
    },
    // The files are in the workload's directory, which it removes.
    remove: async () => undefined,
  }
}

async function migratedFile(dir: string): Promise<string> {
  const path = join(dir, 'maxq.db')
  const store = await openStore({ databaseUrl: undefined, sqlitePath: path })
  await store.close()
  return path
}

function seedFile(path: string, { finished, blocked, stepsPerRun }: HistorySize): void {
  const db = new Database(path)
  const now = seededAt()
  const run = db.prepare(
    `INSERT INTO runs (id, flow_name, status, created_at, started_at, completed_at, updated_at)
     VALUES (?, 'seeded', ?, ?, ?, ?, ?)`,
  )
  const stage = db.prepare(
    `INSERT INTO stages (run_id, seq, name, final, status, created_at, started_at, completed_at)
     VALUES (?, 0, 'only', 1, ?, ?, ?, ?)`,
  )
  const step = db.prepare(
    `INSERT INTO steps (run_id, step_id, flow_name, stage_seq, stage_name, name, status, depends_on, unmet_deps,
       max_retries, attempt, env, exit_code, stdout, stderr, fields, created_at, started_at, completed_at, updated_at)
     VALUES (?, ?, 'seeded', 0, 'only', 'post', ?, ?, ?, 0, ?, '{}', ?, ?, '', ?, ?, ?, ?, ?)`,
  )
  const edge = db.prepare(`INSERT INTO step_dependencies (run_id, depends_on, step_id) VALUES (?, ?, ?)`)
  db.transaction(() => {
    for (let r = 0; r * stepsPerRun < finished; r++) {
      const id = `done-${r}`
      const t = now + r
      run.run(id, 'completed', t, t, t + 1000, t + 1000)
      stage.run(id, 'completed', t, t, t + 1000)
      for (let s = 0; s < stepsPerRun && r * stepsPerRun + s < finished; s++) {
        step.run(id, `s${s}`, 'completed', '[]', 0, 1, 0, 'ok\n', '{"n":1}', t, t, t + 10, t + 10)
      }
    }
    for (let r = 0; r * BLOCKED_STEPS_PER_RUN < blocked; r++) {
      const id = `blocked-${r}`
      const t = now + r
      run.run(id, 'running', t, t, null, t)
      stage.run(id, 'running', t, t, null)
      for (let s = 0; s < BLOCKED_STEPS_PER_RUN && r * BLOCKED_STEPS_PER_RUN + s < blocked; s++) {
        const dep = s === 0 ? `s${BLOCKED_STEPS_PER_RUN - 1}` : 's0'
        step.run(id, `s${s}`, 'pending', JSON.stringify([dep]), 1, 0, null, null, '{}', t, null, null, t)
        edge.run(id, dep, `s${s}`)
      }
    }
    db.exec(foldedRunCounts('DELETE FROM'))
  })()
  db.exec('ANALYZE')
  db.close()
}

/** The SQLite file with its WAL. */
function fileBytes(path: string): number {
  return [path, `${path}-wal`].reduce((sum, file) => sum + (existsSync(file) ? statSync(file).size : 0), 0)
}

export async function postgresHistory(ctx: BenchContext, url: string, size: HistorySize): Promise<History> {
  const databases: ThrowawayDatabase[] = []
  // Dropping is idempotent (IF EXISTS): the seeded one is dropped again after its server dropped it.
  const remove = async (): Promise<void> => {
    await Promise.all(databases.map((database) => database.drop()))
  }
  try {
    const empty = await migratedDatabase(url)
    databases.push(empty)
    const seeded = await migratedDatabase(url)
    databases.push(seeded)
    const emptyBytes = await databaseBytes(empty.url)
    await seedDatabase(seeded.url, size)
    const bytesPerStep = ((await databaseBytes(seeded.url)) - emptyBytes) / (size.finished + size.blocked)
    return {
      empty: { databaseUrl: empty.url },
      seeded: { databaseUrl: seeded.url },
      bytesPerStep,
      startSeeded: () => ctx.startServer({ database: seeded }),
      plan: (statement) => genericPlan(seeded.url, statement),
      remove,
    }
  } catch (error) {
    await remove()
    throw error
  }
}

async function migratedDatabase(url: string): Promise<ThrowawayDatabase> {
  const database = await createDatabase(url)
  const store = await openStore({ databaseUrl: database.url })
  await store.close()
  return database
}

async function databaseBytes(url: string): Promise<number> {
  const sql = postgres(url, { max: 1, onnotice: () => undefined })
  try {
    const [row] = await sql<{ bytes: string }[]>`SELECT pg_database_size(current_database())::text AS bytes`
    return Number(row?.bytes ?? 0)
  } finally {
    await sql.end()
  }
}

/**
 * The same rows as seedFile, written by PostgreSQL itself (generate_series) in one transaction. The
 * sizes and the time are the bench's own integers, written into the statements.
 */
async function seedDatabase(url: string, { finished, blocked, stepsPerRun }: HistorySize): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => undefined })
  const t = `(${Math.trunc(seededAt())} + r)`
  const history = (prefix: string, runs: number, perRun: number, steps: number) => {
    const eachRun = `FROM generate_series(0, ${runs - 1}) AS r`
    const eachStep = `FROM generate_series(0, ${runs - 1}) AS r, generate_series(0, ${perRun - 1}) AS s
      WHERE r * ${perRun} + s < ${steps}`
    return {
      runs: (status: string, completed: string) => `
        INSERT INTO runs (id, flow_name, status, created_at, started_at, completed_at, updated_at)
        SELECT '${prefix}-' || r, 'seeded', '${status}', ${t}, ${t}, ${completed}, ${t} ${eachRun}`,
      stages: (status: string, completed: string) => `
        INSERT INTO stages (run_id, seq, name, final, status, created_at, started_at, completed_at)
        SELECT '${prefix}-' || r, 0, 'only', 1, '${status}', ${t}, ${t}, ${completed} ${eachRun}`,
      steps: (values: string) => `
        INSERT INTO steps (run_id, step_id, flow_name, stage_seq, stage_name, name, status, depends_on, unmet_deps,
          max_retries, attempt, env, exit_code, stdout, stderr, fields, created_at, started_at, completed_at, updated_at)
        SELECT '${prefix}-' || r, 's' || s, 'seeded', 0, 'only', 'post', ${values} ${eachStep}`,
      edges: (dependsOn: string) => `
        INSERT INTO step_dependencies (run_id, depends_on, step_id)
        SELECT '${prefix}-' || r, ${dependsOn}, 's' || s ${eachStep}`,
    }
  }
  const done = history('done', Math.ceil(finished / stepsPerRun), stepsPerRun, finished)
  const open = history('blocked', Math.ceil(blocked / BLOCKED_STEPS_PER_RUN), BLOCKED_STEPS_PER_RUN, blocked)
  // Open runs whose steps all wait on a dependency that never completes (a gate in a cycle).
  const gate = `CASE WHEN s = 0 THEN 's${BLOCKED_STEPS_PER_RUN - 1}' ELSE 's0' END`
  try {
    await sql.begin(async (tx) => {
      await tx.unsafe(done.runs('completed', `${t} + 1000`))
      await tx.unsafe(done.stages('completed', `${t} + 1000`))
      await tx.unsafe(
        done.steps(
          `'completed', '[]', 0, 0, 1, '{}', 0, E'ok\\n', '', '{"n":1}', ${t}, ${t}, ${t} + 10, ${t} + 10`,
        ),
      )
      await tx.unsafe(open.runs('running', 'NULL'))
      await tx.unsafe(open.stages('running', 'NULL'))
      await tx.unsafe(
        open.steps(
          `'pending', jsonb_build_array(${gate}), 1, 0, 0, '{}', NULL, NULL, '', '{}', ${t}, NULL, NULL, ${t}`,
        ),
      )
      await tx.unsafe(open.edges(gate))
      await tx.unsafe(foldedRunCounts('TRUNCATE'))
    })
    // What autovacuum does to a table that grew over months: statistics and the visibility map.
    await sql.unsafe('VACUUM ANALYZE')
  } finally {
    await sql.end()
  }
}

/**
 * The plan MaxQ's connections run the statement with: they prepare it and plan it once, generically
 * (db/postgres/open-postgres.ts), so EXPLAIN shows the prepared statement's plan with the same values.
 */
async function genericPlan(url: string, statement: SQL): Promise<string> {
  const query = renderQuery(new PgDialect(), statement)
  const sql = postgres(url, {
    max: 1,
    onnotice: () => undefined,
    connection: { plan_cache_mode: 'force_generic_plan' },
  })
  try {
    await sql.unsafe(`PREPARE bench_plan AS ${query.sql}`)
    const values = query.params.map((value) =>
      typeof value === 'number' ? String(value) : `'${String(value).replaceAll("'", "''")}'`,
    )
    const rows = await sql.unsafe<{ 'QUERY PLAN': string }[]>(
      `EXPLAIN EXECUTE bench_plan(${values.join(', ')})`,
    )
    return rows.map((row) => row['QUERY PLAN'].trim()).join('; ')
  } finally {
    await sql.end()
  }
}
