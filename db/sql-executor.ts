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

export type Rows = Record<string, unknown>[]

/**
 * The executor inside a transaction. Besides single statements it has the two ways a path keeps
 * its round trips few on PostgreSQL, each with its ordering stated here and tested in
 * test/store/pipeline.test.ts:
 *
 * - `pipeline(statements)`: the statements are run in the order given, each one after the previous
 *   ended, so each sees what the previous ones wrote (on PostgreSQL each takes its own snapshot when
 *   it starts, under READ COMMITTED, so one that waited for a lock sees what the lock's holder
 *   committed). PostgreSQL gets them in one flight on the transaction's connection and runs them in
 *   the order sent; SQLite runs them one after the other. Answers each statement's rows, in order.
 *   A failure fails the pipeline and the transaction (PostgreSQL skips the rest and rolls back).
 * - `beforeCommit(statements)`: the transaction's last statements, run after everything the work
 *   sent and before COMMIT, in the order queued. PostgreSQL gets them, the wake-up NOTIFY and COMMIT
 *   in one flight once the work has returned. The work never sees their answers: `Tail.rows()`
 *   answers them once the transaction has committed (and throws before). A failure among them rolls
 *   the whole transaction back and is thrown by `transaction`.
 */
export interface TxExecutor extends SqlExecutor {
  pipeline(statements: SQL[]): Promise<Rows[]>
  beforeCommit(statements: SQL[]): Tail
  /** A run transition for the operator's log: told to the sink after COMMIT, never on a rollback. */
  systemLog(line: SystemLine): void
}

/** The answers of statements run last in a transaction, readable once it has committed. */
export interface Tail {
  rows(): Rows[]
}

export interface Dialect {
  readonly name: 'sqlite' | 'postgres'
  readonly db: SqlExecutor
  /**
   * Runs `work` in one transaction that holds the write lock from its first statement
   * (`BEGIN IMMEDIATE` on SQLite; on PostgreSQL rows are locked with `lockRows`). Events the work
   * passes to `wake` are told to other processes' tick loops at commit, as `notify` would, in the
   * same round trip; nothing is told if the transaction rolls back.
   */
  transaction<T>(work: (tx: TxExecutor, wake: Waker) => Promise<T>): Promise<T>
  /**
   * A read of a few rows by key, outside any transaction, whose cost does not grow with the data
   * (GET /runs/{run}, the API's most polled answer). On PostgreSQL lookups have one connection of
   * their own: those asked together go out in one write and one backend answers them on one
   * wake-up, where the pool would spread them over its connections, a write and a wake-up each;
   * and since nothing slow is ever sent there, none waits long behind another. On SQLite it is
   * `db.all`, whose reads are already answered together.
   */
  lookup<T>(query: SQL): Promise<T[]>
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
  /** Where committed run transitions go (nowhere until cli/ points it at the process's log). */
  readonly systemLog: SystemLogSink
}

export type WakeEvent = 'work' | 'abort'
/**
 * What a transaction may tell other processes at its commit: a WakeEvent, or `work-left`, a `work`
 * sent only if something is still claimable once the transaction's own claims are done (a worker
 * that took the work its change released has nothing to tell the others).
 */
export type TxWakeEvent = WakeEvent | 'work-left'
export type Waker = (event: TxWakeEvent) => void

/**
 * The tail of one transaction: statements queued with `beforeCommit`, answered after the commit.
 * Both dialects keep one; each runs its statements its own way.
 */
export class TailQueue {
  readonly statements: SQL[] = []
  readonly #tails: { from: number; count: number; tail: { answers: Rows[] | null } }[] = []

  add(statements: SQL[]): Tail {
    const answer: { answers: Rows[] | null } = { answers: null }
    this.#tails.push({ from: this.statements.length, count: statements.length, tail: answer })
    this.statements.push(...statements)
    return {
      rows: () => {
        if (answer.answers === null) throw new Error('maxq: a tail is answered only after its COMMIT')
        return answer.answers
      },
    }
  }

  /** The transaction committed with these answers, one per queued statement. */
  committed(answers: Rows[]): void {
    for (const { from, count, tail } of this.#tails) tail.answers = answers.slice(from, from + count)
  }
}

/**
 * One run transition, as the queries know it: built from rows they read or RETURN anyway, so the
 * operator's log costs the hot paths no statement. cli/run-transition-log.ts words it.
 */
export type SystemLine =
  | { event: 'run_started'; runId: string; flow: string }
  | { event: 'stage_done'; runId: string; flow: string; stage: string; status: 'completed' | 'failed' }
  | {
      event: 'step_failed'
      runId: string
      flow: string | null
      step: string
      attempt: number | null
      /** exit_code, signal, timeout, lease_expired, dependency_failed… */
      reason: string
      exitCode: number | null
      signal: string | null
      /** The step that failed first, for `dependency_failed`. */
      failedStep: string | null
      /** Set when the attempt is retried: the retry's number. */
      retry: number | null
      /** A lost attempt queued again without spending a retry. */
      requeued: boolean
    }
  | {
      event: 'run_ended'
      runId: string
      flow: string
      status: 'completed' | 'failed'
      reason: string | null
      durationMs: number
    }

export type SystemLog = (line: SystemLine) => void

/**
 * A dialect's sink for run transitions. A transaction collects its lines and hands them over only
 * after COMMIT answered; a statement atomic on its own tells them once it has answered. Logging
 * never fails the change it reports: a sink that throws is ignored.
 */
export class SystemLogSink {
  #write: SystemLog = () => undefined

  /** Points the sink somewhere (cli/ wires the process's log); answers the sink. */
  set(write: SystemLog): this {
    this.#write = write
    return this
  }

  /** Tells lines of changes that are already committed. */
  tell(lines: readonly SystemLine[]): void {
    for (const line of lines) {
      try {
        this.#write(line)
      } catch {
        // the change is committed; a log line that cannot be written must not turn it into an error
      }
    }
  }

  /** A transaction's collector: `add` during the work, `committed` after COMMIT (else dropped). */
  collect(): { add: SystemLog; committed: () => void } {
    const lines: SystemLine[] = []
    return { add: (line) => lines.push(line), committed: () => this.tell(lines) }
  }
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
