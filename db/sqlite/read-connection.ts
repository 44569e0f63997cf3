// A second connection for the statements that only read and are not part of a transaction (GET
// /runs/{run}, the API's most frequent request, is one). It needs no lock: no read here is part of
// a transaction held across an await. A read sees what was committed before it was asked, as a
// pooled PostgreSQL connection would, never a transaction still in flight on the writing connection,
// and it does not wait for one. `query_only` makes a statement that writes fail here rather than
// wait for the write lock this process itself may hold; such statements go to the other connection.
//
// The reads asked during one turn of the event loop are answered together at its end
// (setImmediate), in one read transaction. A statement on its own opens and closes a read
// transaction of its own (locks on the WAL index, a check of its header), which costs more than
// reading a run by its key; under load, the requests whose bytes arrived together share that cost.
// Each still sees every commit made before it was asked: the transaction starts after the last of
// them was.

import Database from 'better-sqlite3'
import type { Query } from 'drizzle-orm'
import { rowsOf, statementsOf, type Prepared } from './statements.js'

export interface ReadConnection {
  /** The statement's rows; null when the statement writes (the writing connection runs it). */
  read<T>(query: Query): Promise<T[]> | null
  close(): void
}

interface Asked {
  prepared: Prepared
  resolve: (rows: unknown[]) => void
  reject: (error: unknown) => void
}

export function openReadConnection(path: string): ReadConnection {
  // Another connection to ':memory:' would be another, empty database.
  if (path === ':memory:') return { read: () => null, close: () => undefined }
  const client = new Database(path)
  client.pragma('busy_timeout = 5000')
  client.pragma('query_only = ON')
  const prepare = statementsOf(client)
  const begin = client.prepare('BEGIN')
  // A read transaction has nothing to keep: ROLLBACK ends it, and cannot fail the way a COMMIT can.
  const end = client.prepare('ROLLBACK')
  let asked: Asked[] = []

  // Runs in a setImmediate callback: every error goes to the read it belongs to, never out of here.
  const answerAll = (): void => {
    const batch = asked
    asked = []
    if (batch.length === 0) return
    if (batch.length > 1) {
      try {
        begin.run()
      } catch {
        // Then each read runs in a transaction of its own, as it would alone.
      }
    }
    for (const { prepared, resolve, reject } of batch) {
      try {
        resolve(rowsOf(prepared))
      } catch (error) {
        reject(error)
      }
    }
    if (client.inTransaction) end.run()
  }

  return {
    read: <T>(query: Query) => {
      const prepared = prepare(query)
      if (!prepared.statement.readonly) return null
      return new Promise<T[]>((resolve, reject) => {
        if (asked.length === 0) setImmediate(answerAll)
        asked.push({ prepared, resolve: resolve as (rows: unknown[]) => void, reject })
      })
    },
    close: () => {
      answerAll()
      client.close()
    },
  }
}
