// The one seam between the dialect-neutral queries in db/queries/ and a database driver.
// Queries are drizzle `sql` templates written in the SQL both SQLite and PostgreSQL accept;
// the few places where the dialects differ are the methods of `Dialect` below.

import type { SQL } from 'drizzle-orm'

export interface SqlExecutor {
  all<T>(query: SQL): Promise<T[]>
  /** Runs a statement; answers the number of rows it changed. */
  run(query: SQL): Promise<number>
  /** Runs a script of several statements with no parameters (migrations). */
  execScript(script: string): Promise<void>
}

export interface Dialect {
  readonly name: 'sqlite' | 'postgres'
  readonly db: SqlExecutor
  /**
   * Runs `work` in one transaction that holds the write lock from its first statement
   * (`BEGIN IMMEDIATE` on SQLite; on PostgreSQL rows are locked with `lockRows`). Events the work
   * passes to `wake` are told to other processes' tick loops at commit, as `notify` would, in the
   * same round trip; nothing is told if the transaction rolls back. Statements the work passes to
   * `commitWith` are finished with the COMMIT (see `CommitWith`).
   */
  transaction<T>(work: (tx: SqlExecutor, wake: Waker, commitWith: CommitWith) => Promise<T>): Promise<T>
  /**
   * Runs statements that need nothing from each other's answers in one transaction, in order, and
   * answers each one's rows. PostgreSQL sends BEGIN, the statements and COMMIT together: one round
   * trip. Wakes nobody. Both dialects implement it with `batchIn`.
   */
  batch(statements: SQL[]): Promise<Record<string, unknown>[][]>
  /** A JSON value as a query parameter of a JSON column. */
  json(value: unknown): SQL
  /**
   * `column IN (values)` with one bound parameter however many values there are, so the statement
   * stays the same (and prepared) for any count, and planned as lookups of the column's index.
   */
  isIn(column: SQL, values: readonly string[]): SQL
  /** Suffix that locks the selected rows until the transaction ends (empty on SQLite). */
  readonly lockRows: SQL
  /** Suffix for claims: lock the rows and skip those another transaction holds. */
  readonly skipLocked: SQL
  /**
   * Tells tick loops in other processes that work may be ready ('work') or that leases were taken
   * away ('abort'). PostgreSQL uses NOTIFY; SQLite has no other processes to tell (the local runner
   * wakes itself in-process), so there it does nothing.
   */
  notify(event: WakeEvent): Promise<void>
  /** Subscribes to those events; answers the function that unsubscribes. */
  listen(onEvent: (event: WakeEvent) => void): Promise<() => Promise<void>>
  close(): Promise<void>
}

export type WakeEvent = 'work' | 'abort'
export type Waker = (event: WakeEvent) => void
/**
 * Hands over statements already sent whose answers nothing later in the transaction needs: COMMIT
 * goes out right behind them (on PostgreSQL in the same round trip) instead of after their answers.
 * Only statements already on their way: work that sends more once an answer is in would send it
 * after the COMMIT. If one of them fails, the transaction rolls back and its error is thrown. Code
 * chained on their answers must not throw: the COMMIT may already have been applied.
 */
export type CommitWith = (sent: Promise<unknown>) => void

/**
 * `Dialect.batch` over the dialect's own transaction: every statement is handed to `commitWith`.
 * The answers come back wrapped, so the work returns before they are in and COMMIT goes out
 * behind the statements.
 */
export async function batchIn(
  transaction: Dialect['transaction'],
  statements: SQL[],
): Promise<Record<string, unknown>[][]> {
  const { answers } = await transaction(async (tx, _wake, commitWith) => {
    const answers = Promise.all(statements.map((statement) => tx.all<Record<string, unknown>>(statement)))
    commitWith(answers)
    return { answers }
  })
  return answers
}

/** JSON columns come back as text from both drivers (see each dialect's open file). */
export function parseJson<T>(value: unknown, fallback: T): T {
  if (value === null || value === undefined) return fallback
  if (typeof value !== 'string') return value as T
  return JSON.parse(value) as T
}

/** Integer columns: SQLite answers numbers, PostgreSQL bigint columns are parsed to numbers too. */
export function toNumber(value: unknown): number {
  return typeof value === 'number' ? value : Number(value)
}

export function toNullableNumber(value: unknown): number | null {
  return value === null || value === undefined ? null : toNumber(value)
}
