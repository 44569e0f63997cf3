import { sql, type SQL } from 'drizzle-orm'
import { stepLease } from '../rules/lease-key.js'
import {
  parseJson,
  toNullableNumber,
  toNumber,
  type Dialect,
  type SqlExecutor,
  type Tail,
} from '../sql-executor.js'
import type { SiblingMemo } from '../sibling-memo.js'
import type { ClaimedStep, ClaimLimits } from '../store.js'
import type { Tx } from './tx.js'

/**
 * Claims up to `limit` claimable steps in one statement. Claimable means `available_at` is due,
 * which the writers keep true only for steps whose dependencies completed, whose stage is running
 * and whose run is not paused, so the claim reads the small partial index and nothing else.
 * The statement is atomic by itself, so the store runs it outside an explicit transaction: SQLite
 * takes the write lock for it, PostgreSQL adds FOR UPDATE SKIP LOCKED so concurrent ticks take
 * disjoint rows. Each claim bumps `attempt`, the lease's fencing token.
 */
export async function claimReadySteps(
  db: SqlExecutor,
  d: Dialect,
  claim: ClaimLimits,
  now: number,
  siblings?: SiblingMemo,
): Promise<ClaimedStep[]> {
  if (claim.limit <= 0) return []
  const rows = await db.all<Record<string, unknown>>(claimStatement(d, claim, now))
  return rows.map((row) => toClaimedStep(row, siblings))
}

/** The same claim, last in a transaction (a step's exit fills the slots the worker has free). */
export function claimReadyStepsAtCommit(tx: Tx, claim: ClaimLimits, now: number): Tail {
  return tx.q.beforeCommit(claim.limit <= 0 ? [] : [claimStatement(tx.d, claim, now)])
}

/** Answers the claimed steps of a tail made by `claimReadyStepsAtCommit`. */
export function claimedSteps(tail: Tail, siblings?: SiblingMemo): ClaimedStep[] {
  return (tail.rows()[0] ?? []).map((row) => toClaimedStep(row, siblings))
}

function claimStatement(d: Dialect, claim: ClaimLimits, now: number): SQL {
  // A probe of steps_run_stage per claimed step, asked where it is used (SiblingMemo). In index
  // order with a LIMIT, not EXISTS: without statistics PostgreSQL planned the EXISTS as a scan of
  // the table that stops at the first match, which reads other runs' steps first (582 buffers a
  // claim in a fan-out of 10,000 after one of 1,000 where 46 were read without the probe).
  const siblings =
    d.name !== 'postgres'
      ? sql``
      : sql`, (
          SELECT sibling.step_id FROM steps AS sibling
          WHERE sibling.run_id = steps.run_id AND sibling.stage_seq = steps.stage_seq
            AND sibling.step_id <> steps.step_id
          ORDER BY sibling.run_id, sibling.stage_seq, sibling.status LIMIT 1) IS NOT NULL AS has_siblings`
  return sql`
    UPDATE steps SET status = 'running', attempt = attempt + 1, worker_id = ${claim.workerId},
      claimed_at = ${now}, heartbeat_at = ${now}, started_at = ${now}, available_at = NULL, updated_at = ${now}
    WHERE id IN (
      SELECT id FROM steps
      WHERE status = 'pending' AND available_at IS NOT NULL AND available_at <= ${now}
      ORDER BY available_at, id LIMIT ${claim.limit} ${d.skipLocked})
    RETURNING run_id, step_id, flow_name, name, stage_name, attempt, env, timeout_seconds ${siblings}`
}

function toClaimedStep(row: Record<string, unknown>, siblings: SiblingMemo | undefined): ClaimedStep {
  const attempt = toNumber(row.attempt)
  const lease = stepLease(String(row.run_id), String(row.step_id), attempt)
  if (row.has_siblings === true) siblings?.remember(lease)
  return {
    lease,
    runId: String(row.run_id),
    flowName: String(row.flow_name),
    stepId: String(row.step_id),
    stepName: String(row.name),
    stage: String(row.stage_name),
    attempt,
    env: parseJson<Record<string, string>>(row.env, {}),
    timeoutSeconds: toNullableNumber(row.timeout_seconds),
  }
}
