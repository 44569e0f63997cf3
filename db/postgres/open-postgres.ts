import type { Dialect } from '../sql-executor.js'

export async function openPostgres(_url: string): Promise<Dialect> {
  throw new Error('maxq: PostgreSQL support is not built yet')
}
