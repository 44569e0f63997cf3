// A hot statement whose text never changes, only its values. drizzle renders an `sql` template
// anew on every call (walking its chunks, escaping, joining), which on GET /runs/{run} cost more
// CPU than the SQLite lookup itself; a FixedQuery is rendered once per dialect with placeholders,
// and each call only binds its values. Both executors render through `renderQuery`.

import { fillPlaceholders, SQL, sql, type Placeholder, type Query } from 'drizzle-orm'

/** What renders `sql` templates: drizzle's SQLiteSyncDialect or PgDialect. */
export interface Renderer {
  sqlToQuery(query: SQL): Query
}

export class FixedQuery<Values extends Record<string, unknown>> {
  readonly #template: SQL
  readonly #rendered = new WeakMap<Renderer, Query>()

  /** `build` writes the statement with `value(name)` where each call's value goes. */
  constructor(build: (value: (name: keyof Values & string) => Placeholder) => SQL) {
    this.#template = build((name) => sql.placeholder(name))
  }

  /** The statement with this call's values, for any executor's `all` or `run`. */
  with(values: Values): SQL {
    return new BoundQuery(this, values)
  }

  /** @internal the text rendered once by this renderer, and the parameters for these values. */
  render(renderer: Renderer, values: Values): Query {
    let rendered = this.#rendered.get(renderer)
    if (rendered === undefined) {
      rendered = renderer.sqlToQuery(this.#template)
      this.#rendered.set(renderer, rendered)
    }
    return { sql: rendered.sql, params: fillPlaceholders(rendered.params, values) }
  }
}

/** A FixedQuery with its values: an SQL, so that it goes wherever a statement goes. */
class BoundQuery<Values extends Record<string, unknown>> extends SQL {
  constructor(
    readonly fixed: FixedQuery<Values>,
    readonly values: Values,
  ) {
    super([])
  }

  // Rendered any other way it would be an empty statement, silently doing nothing.
  override toQuery(): never {
    throw new Error('maxq: a FixedQuery is rendered by renderQuery (db/fixed-query.ts)')
  }
}

/** The text and parameters of a statement: a FixedQuery's rendered once, any other's now. */
export function renderQuery(renderer: Renderer, query: SQL): Query {
  return query instanceof BoundQuery ? query.fixed.render(renderer, query.values) : renderer.sqlToQuery(query)
}
