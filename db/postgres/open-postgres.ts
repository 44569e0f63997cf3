import { randomUUID } from 'node:crypto'
import { sql, type SQL } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import postgres, { type Sql } from 'postgres'
import {
  SystemLogSink,
  TailQueue,
  type Dialect,
  type Rows,
  type SqlExecutor,
  type TxExecutor,
  type TxWakeEvent,
  type WakeEvent,
  type Waker,
} from '../sql-executor.js'
import { renderQuery } from '../fixed-query.js'
import { DEFAULT_POOL_SIZE } from '../open-dialect.js'
import { claimableNow } from '../queries/find-work.js'

/** The LISTEN/NOTIFY channel that wakes tick loops in other processes. */
export const WAKE_CHANNEL = 'maxq_wake'

const INT8_OID = 20
const JSON_OID = 114
const JSONB_OID = 3802

// drizzle renders the `sql` templates; postgres.js runs them on the pool or on one reserved
// connection. Going to postgres.js directly is what lets a transaction pipeline.
const compiler = new PgDialect()

/**
 * Statements with at most this many parameters are prepared once per connection (postgres.js keeps
 * them by text), so PostgreSQL stops parsing and planning them anew: every hot-path statement is
 * short, and planning was most of their server time. Longer ones are the multi-row INSERTs and IN
 * lists, whose texts vary with their length; caching each variant would only grow the backends.
 */
const PREPARE_MAX_PARAMS = 32

/** postgres.js parameter values; ours are strings, numbers, null (and booleans). */
type Params = postgres.ParameterOrJSON<never>[]

/**
 * Sends the statement now (`execute`), not when its answer is first awaited: statements go out on a
 * connection in the order of these calls, which is what `pipeline` and the tail rely on.
 */
function send(client: Sql, statement: SQL) {
  const { sql: text, params } = renderQuery(compiler, statement)
  return client.unsafe(text, params as Params, { prepare: params.length <= PREPARE_MAX_PARAMS }).execute()
}

function executorOf(client: Sql): SqlExecutor {
  const query = (statement: SQL) => send(client, statement)
  return {
    all: async <T>(statement: SQL) => (await query(statement)) as unknown as T[],
    // postgres.js answers the affected row count of INSERT/UPDATE/DELETE in `count`.
    run: async (statement: SQL) => (await query(statement)).count,
    // No parameters: postgres.js sends it with the simple protocol, which runs several statements.
    execScript: async (script: string) => {
      await client.unsafe(script)
    },
  }
}

/**
 * One transaction on a reserved connection. postgres.js pipelines what is sent on one connection
 * and PostgreSQL runs a connection's statements in the order received, so BEGIN travels with the
 * first statement, a `pipeline` is one flight, and the `beforeCommit` tail, the wake-up NOTIFY and
 * COMMIT are one more: a transaction costs its own flights and at most one more, and one whose
 * statements are all in its tail is a single round trip. (BEGIN can only fail when the connection
 * is gone, and then everything queued behind it fails too.)
 */
async function inTransaction<T>(
  client: Sql,
  sender: string,
  systemLog: SystemLogSink,
  work: (tx: TxExecutor, wake: Waker) => Promise<T>,
): Promise<T> {
  const connection = await client.reserve()
  try {
    const begun = handled(connection.unsafe('BEGIN').execute())
    const events = new Set<TxWakeEvent>()
    const tail = new TailQueue()
    const lines = systemLog.collect()
    const q = executorOf(connection)
    const tx: TxExecutor = {
      ...q,
      systemLog: lines.add,
      // Sent together without waiting in between: the connection keeps them in this order.
      pipeline: (statements) => Promise.all(statements.map((statement) => q.all<Rows[number]>(statement))),
      beforeCommit: (statements) => tail.add(statements),
    }
    let result: T
    try {
      result = await work(tx, (event) => events.add(event))
    } catch (error) {
      await connection.unsafe('ROLLBACK').catch(() => undefined)
      throw error
    }
    const last = tail.statements.map((statement) => handled(q.all<Rows[number]>(statement)))
    const notified = [...events]
      .filter((event) => !(event === 'work-left' && events.has('work')))
      .map((event) => handled(send(connection, notifyStatement(event, sender))))
    // A failed statement makes PostgreSQL answer this COMMIT with a rollback: nothing is kept.
    const settled = await Promise.allSettled([
      begun,
      ...last,
      ...notified,
      connection.unsafe('COMMIT').execute(),
    ])
    const failed = settled.find((answer) => answer.status === 'rejected')
    if (failed !== undefined) throw failed.reason
    tail.committed(await Promise.all(last))
    lines.committed()
    return result
  } finally {
    connection.release()
  }
}

/** Its failure is reported once COMMIT has answered, not as an unhandled rejection meanwhile. */
function handled<P extends Promise<unknown>>(promise: P): P {
  promise.catch(() => undefined)
  return promise
}

/**
 * Sent inside the transaction, after its tail: PostgreSQL delivers it at COMMIT, and only if the
 * changes commit. `work-left` notifies only while something is still claimable, which the
 * transaction's own claims (in its tail, before this) may have taken: a NOTIFY costs its commit
 * about 0.4 ms here, and wakes every listening process for an empty claim.
 */
function notifyStatement(event: TxWakeEvent, sender: string): SQL {
  if (event !== 'work-left') return sql`SELECT pg_notify(${WAKE_CHANNEL}, ${payload(event, sender)})`
  return sql`SELECT pg_notify(${WAKE_CHANNEL}, ${payload('work', sender)}) WHERE ${claimableNow(Date.now())}`
}

const isWakeEvent = (value: string): value is WakeEvent => value === 'work' || value === 'abort'

/**
 * A wake-up names the store that sent it. The process that made a change has already woken its
 * own tick loop and supervisor in-process, so its listener skips its own NOTIFYs: otherwise each of
 * them would cost that loop one more, empty, claim. A bare event (an operator's `NOTIFY maxq_wake,
 * 'work'`) wakes everyone.
 */
function payload(event: WakeEvent, sender: string): string {
  return `${event} ${sender}`
}

function parsePayload(text: string): { event: WakeEvent; sender: string | null } | null {
  const [event = '', sender = null] = text.split(' ', 2)
  return isWakeEvent(event) ? { event, sender } : null
}

/**
 * PostgreSQL through postgres.js and drizzle. The shared queries and row mappers expect what SQLite
 * answers, so the client is told to parse int8 (epoch-ms timestamps, ids, COUNT(*)) as numbers,
 * which is exact below 2^53, and to hand json/jsonb back as their text (the mappers JSON.parse it;
 * a jsonb string value parsed here would be parsed twice). Parameters are sent untyped and take
 * the column's type, except JSON, which is cast `::jsonb`.
 */
export async function openPostgres(url: string, options: { poolSize?: number } = {}): Promise<Dialect> {
  const settings = {
    onnotice: () => undefined,
    // A prepared statement is planned anew on each of its first five runs per connection (custom
    // plans) before PostgreSQL settles on a generic one: with ten connections that is fifty
    // plannings per statement, most of a short workload's server time. MaxQ's statements are key
    // and partial-index lookups whose best plan does not depend on the values, so plan once.
    connection: { plan_cache_mode: 'force_generic_plan' },
    types: {
      int8: {
        to: INT8_OID,
        from: [INT8_OID],
        serialize: (value: number | bigint | string) => String(value),
        parse: (raw: string) => Number(raw),
      },
      jsonText: {
        to: JSONB_OID,
        from: [JSON_OID, JSONB_OID],
        serialize: (value: string) => value,
        parse: (raw: string) => raw,
      },
    },
  } satisfies postgres.Options<Record<string, postgres.PostgresType>>
  // MAXQ_DATABASE_POOL_SIZE, parsed in cli/config.ts; db/ reads no environment of its own.
  const client = postgres(url, { ...settings, max: options.poolSize ?? DEFAULT_POOL_SIZE })
  // Opened at the first lookup: a tick process, which asks none, never opens it.
  const lookups = postgres(url, { ...settings, max: 1 })
  const pool = executorOf(client)
  const sender = randomUUID()
  const systemLog = new SystemLogSink()
  const transaction = <T>(work: (tx: TxExecutor, wake: Waker) => Promise<T>) =>
    inTransaction(client, sender, systemLog, work)

  return {
    name: 'postgres',
    db: pool,
    // READ COMMITTED is enough: every transaction that changes a run locks its run row first
    // (db/queries/tx.ts lockRun), and claims lock the rows they take with SKIP LOCKED.
    transaction,
    lookup: executorOf(lookups).all,
    json: (value: unknown) => sql`${JSON.stringify(value ?? null)}::jsonb`,
    // An array, not `IN (SELECT …)`: a semi-join from a set-returning function is planned with a
    // guessed 100 rows, and read every step of the run; `= ANY` of an array is an index condition.
    isIn: (column: SQL, values: readonly string[]) =>
      sql`${column} = ANY(ARRAY(SELECT jsonb_array_elements_text(${JSON.stringify(values)}::jsonb)))`,
    lockRows: sql`FOR UPDATE`,
    skipLocked: sql`FOR UPDATE SKIP LOCKED`,
    notify: async (event: WakeEvent) => {
      await client.notify(WAKE_CHANNEL, payload(event, sender))
    },
    listen: async (onEvent: (event: WakeEvent) => void) => {
      // postgres.js keeps one dedicated connection for LISTEN and re-listens after a reconnect.
      const meta = await client.listen(WAKE_CHANNEL, (text) => {
        const wake = parsePayload(text)
        if (wake !== null && wake.sender !== sender) onEvent(wake.event)
      })
      return () => meta.unlisten()
    },
    close: async () => {
      await Promise.all([client.end({ timeout: 5 }), lookups.end({ timeout: 5 })])
    },
    systemLog,
  }
}
