import { sql, type SQL } from 'drizzle-orm'
import type { Dialect, TxExecutor, Waker } from '../sql-executor.js'

/** What every query inside a transaction gets: the executor and the dialect's differences. */
export interface Tx {
  /** Single statements, `pipeline` and `beforeCommit` (see `TxExecutor` for their ordering). */
  q: TxExecutor
  d: Dialect
  /** Asks for other processes' tick loops to be woken when this transaction commits. */
  wake: Waker
}

/** Runs `work` in one transaction (the store's; db/sql-store.ts). */
export type InTx = <T>(work: (tx: Tx) => Promise<T>) => Promise<T>

/** `a, b, c` as bound parameters, for `IN (…)`. Callers keep lists to a few hundred. */
export function list(values: readonly (string | number)[]): SQL {
  return sql.join(
    values.map((value) => sql`${value}`),
    sql`, `,
  )
}

export function chunks<T>(values: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < values.length; i += size) out.push(values.slice(i, i + size))
  return out
}

/**
 * Every transaction that changes a run's state locks the run row first. One lock order (run, then
 * its stages and steps) keeps concurrent ticks and API processes on PostgreSQL from deadlocking,
 * and it serialises the "last sibling step just finished" decision per run.
 */
export async function lockRun(tx: Tx, runId: string): Promise<LockedRun | null> {
  const rows = await tx.q.all<LockedRun>(lockRunStatement(tx, runId))
  return rows[0] ?? null
}

/**
 * What the lifecycle reads of the run it locks. Not the whole row: every step's end takes this
 * lock, and a run's input, metadata and output may be up to a megabyte each.
 */
export interface LockedRun {
  id: string
  flow_name: string
  status: string
  started_at: number | null
  termination_reason: string | null
  secrets: unknown
}

/** The run lock as a statement, for a pipeline that sends it first. */
export function lockRunStatement(tx: Tx, runId: string): SQL {
  return sql`
    SELECT id, flow_name, status, started_at, termination_reason, secrets
    FROM runs WHERE id = ${runId} ${tx.d.lockRows}`
}

export const isRunOpen = (status: unknown): boolean => status === 'pending' || status === 'running'
export const isRunActive = (status: unknown): boolean => isRunOpen(status) || status === 'paused'
