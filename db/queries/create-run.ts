import { randomUUID } from 'node:crypto'
import { sql } from 'drizzle-orm'
import type { NewRun } from '../store.js'
import type { Run } from '../types.js'
import { queueFlowCall } from './queue-flow-call.js'
import type { Tx } from './tx.js'
import { logStatement } from './write-log.js'

/** Inserts the run and its first flow call together, so a trigger can never lose its first call. */
export async function createRun(tx: Tx, input: NewRun, now: number, id = randomUUID()): Promise<Run> {
  const run: Run = {
    id,
    flowName: input.flowName,
    status: 'pending',
    input: input.input ?? null,
    metadata: input.metadata ?? null,
    name: null,
    description: null,
    output: null,
    error: null,
    terminationReason: null,
    createdAt: now,
    startedAt: null,
    completedAt: null,
    updatedAt: now,
  }
  // Nothing here needs an answer: the transaction's tail, the run first, then its first call and
  // the log that refer to it. On PostgreSQL BEGIN, these, the NOTIFY and COMMIT are one flight.
  tx.q.beforeCommit([
    sql`
      INSERT INTO runs (id, flow_name, status, input, metadata, created_at, updated_at)
      VALUES (${run.id}, ${run.flowName}, 'pending', ${tx.d.json(run.input)}, ${tx.d.json(run.metadata)}, ${now}, ${now})`,
    queueFlowCall(tx, run, { completedStage: null, failedStage: null }, now),
    logStatement(
      tx,
      run.id,
      { entityType: 'run', entityId: run.id, level: 'info', message: 'run triggered' },
      now,
    ),
  ])
  return run
}
