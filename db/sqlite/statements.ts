// Prepared statements for one better-sqlite3 connection, cached by their text: the queries are a
// fixed set of templates, and preparing each one once saves a parse per request on the hot paths.

import type Database from 'better-sqlite3'
import type { Query } from 'drizzle-orm'
import { SQLiteSyncDialect } from 'drizzle-orm/sqlite-core'

const STATEMENT_CACHE_SIZE = 500

export interface Prepared {
  statement: Database.Statement
  params: unknown[]
}

/** drizzle's SQLite renderer: it holds no state, so one serves every connection. */
export const renderer = new SQLiteSyncDialect()

/** A connection's prepared statements, cached by their text. */
export function statementsOf(client: Database.Database): (query: Query) => Prepared {
  const statements = new Map<string, Database.Statement>()
  return ({ sql: text, params }) => {
    let statement = statements.get(text)
    if (statement === undefined) {
      statement = client.prepare(text)
      // IN lists make texts that vary with their length; keep the cache bounded all the same.
      if (statements.size >= STATEMENT_CACHE_SIZE) statements.clear()
      statements.set(text, statement)
    }
    return { statement, params }
  }
}

/** The rows of a statement that returns rows; none for one that does not. */
export function rowsOf<T>({ statement, params }: Prepared): T[] {
  if (statement.reader) return statement.all(...params) as T[]
  statement.run(...params)
  return []
}
