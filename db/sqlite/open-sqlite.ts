import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { sql, type Query, type SQL } from 'drizzle-orm'
import {
  SystemLogSink,
  TailQueue,
  type SystemLog,
  type Dialect,
  type Rows,
  type SqlExecutor,
  type TxExecutor,
  type Waker,
} from '../sql-executor.js'
import { renderQuery } from '../fixed-query.js'
import { openReadConnection } from './read-connection.js'
import { renderer, rowsOf, statementsOf } from './statements.js'

// One process owns a SQLite file's scheduling (the local runner wakes itself in-process).
const wakeNobody: Waker = () => undefined

/**
 * better-sqlite3 is synchronous, but the queries above it are async so that one body serves both
 * dialects. Between two awaits another request could issue a statement on the same connection,
 * inside our transaction; so every use of the connection goes through one lock.
 */
function createLock(): <T>(work: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve()
  return <T>(work: () => Promise<T>): Promise<T> => {
    const result = tail.then(work, work)
    tail = result.catch(() => undefined)
    return result
  }
}

function executorOf(client: Database.Database): SqlExecutor & { rows<T>(query: Query): T[] } {
  const prepare = statementsOf(client)
  return {
    rows: <T>(query: Query) => rowsOf<T>(prepare(query)),
    all: async <T>(query: SQL) => rowsOf<T>(prepare(renderQuery(renderer, query))),
    run: async (query: SQL) => {
      const { statement, params } = prepare(renderQuery(renderer, query))
      return statement.run(...params).changes
    },
    execScript: async (script: string) => {
      client.exec(script)
    },
  }
}

export function openSqlite(path: string): Dialect {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const client = new Database(path)
  // WAL lets readers in other processes (a `maxq serve` beside a `maxq tick`) work during a write;
  // NORMAL sync is durable across process crashes, the failure the design is about.
  client.pragma('journal_mode = WAL')
  client.pragma('synchronous = NORMAL')
  client.pragma('busy_timeout = 5000')
  client.pragma('foreign_keys = ON')
  const raw = executorOf(client)
  const reader = openReadConnection(path)
  const begin = client.prepare('BEGIN IMMEDIATE')
  const commit = client.prepare('COMMIT')
  const rollback = client.prepare('ROLLBACK')
  const lock = createLock()
  // In-process, nothing is saved by sending statements together: a pipeline and a tail are plain
  // statements one after the other, in one BEGIN IMMEDIATE transaction.
  const systemLog = new SystemLogSink()
  const tx = (tail: TailQueue, log: SystemLog): TxExecutor => ({
    all: raw.all,
    run: raw.run,
    execScript: raw.execScript,
    systemLog: log,
    pipeline: async (statements) => {
      const answers: Rows[] = []
      for (const statement of statements) answers.push(await raw.all<Rows[number]>(statement))
      return answers
    },
    beforeCommit: (statements) => tail.add(statements),
  })
  const transaction = <T>(work: (tx: TxExecutor, wake: Waker) => Promise<T>) =>
    lock(async () => {
      begin.run()
      try {
        const tail = new TailQueue()
        const lines = systemLog.collect()
        const result = await work(tx(tail, lines.add), wakeNobody)
        const answers: Rows[] = []
        for (const statement of tail.statements) answers.push(await raw.all<Rows[number]>(statement))
        commit.run()
        tail.committed(answers)
        lines.committed()
        return result
      } catch (error) {
        if (client.inTransaction) rollback.run()
        throw error
      }
    })

  const db: SqlExecutor = {
    all: async <T>(query: SQL) => {
      const rendered = renderQuery(renderer, query)
      return reader.read<T>(rendered) ?? lock(async () => raw.rows<T>(rendered))
    },
    run: (query: SQL) => lock(() => raw.run(query)),
    execScript: (script: string) => lock(() => raw.execScript(script)),
  }

  return {
    name: 'sqlite',
    db,
    transaction,
    lookup: db.all,
    json: (value: unknown) => sql`${JSON.stringify(value ?? null)}`,
    isIn: (column: SQL, values: readonly string[]) =>
      sql`${column} IN (SELECT value FROM json_each(${JSON.stringify(values)}))`,
    lockRows: sql``,
    skipLocked: sql``,
    notify: async () => undefined,
    listen: async () => async () => undefined,
    close: async () => {
      await lock(async () => {
        reader.close()
        client.close()
      })
    },
    systemLog,
  }
}
