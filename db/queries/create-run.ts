import { randomUUID } from 'node:crypto'
import { sql } from 'drizzle-orm'
import type { NewRun } from '../store.js'
import type { Run } from '../types.js'
import { queueFlowCall } from './queue-flow-call.js'
import type { Tx } from './tx.js'
import { writeLog } from './write-log.js'

/** Inserts the run and its first flow call together, so a trigger can never lose its first call. */
export async function createRun(tx: Tx, input: NewRun, now: number): Promise<Run> {
  const run: Run = {
    id: randomUUID(),
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
  // Sent together, the run first (PostgreSQL runs a connection's statements in the order sent), and
  // the COMMIT right behind them: nothing here needs their answers.
  tx.commitWith(
    Promise.all([
      tx.q.run(sql`
      INSERT INTO runs (id, flow_name, status, input, metadata, created_at, updated_at)
      VALUES (${run.id}, ${run.flowName}, 'pending', ${tx.d.json(run.input)}, ${tx.d.json(run.metadata)}, ${now}, ${now})`),
      queueFlowCall(tx, run, { completedStage: null, failedStage: null }, now),
      writeLog(
        tx,
        run.id,
        { entityType: 'run', entityId: run.id, level: 'info', message: 'run triggered' },
        now,
      ),
    ]),
  )
  return run
}
