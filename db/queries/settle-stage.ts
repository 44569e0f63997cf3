import { sql } from 'drizzle-orm'
import { endRun } from './end-run.js'
import { queueFlowCall } from './queue-flow-call.js'
import { startNextStage } from './start-next-stage.js'
import { isRunOpen, type Tx } from './tx.js'
import { writeLog } from './write-log.js'

interface RunRef {
  id: string
  flowName: string
  status: string
}

/**
 * Settles a stage once none of its steps is pending or running: completed when every step
 * completed, failed otherwise. Then the run moves on: a completed final stage completes the run;
 * any other settled stage queues a flow callback; a failed stage cancels the stages scheduled
 * after it. The caller holds the run lock, so exactly one of several concurrent finishers of
 * sibling steps sees the stage settle.
 */
export async function settleStage(tx: Tx, run: RunRef, stageSeq: number, now: number): Promise<void> {
  // Asked on every step end: an index probe for one open sibling, not a count of the stage.
  const open = await tx.q.all<{ found: number }>(sql`
    SELECT 1 AS found FROM steps
    WHERE run_id = ${run.id} AND stage_seq = ${stageSeq} AND status IN ('pending', 'running') LIMIT 1`)
  if (open.length > 0) return
  // From here on, statements that do not read each other's writes are sent together (PostgreSQL
  // pipelines them on the transaction's connection, in the order written): a stage's end costs
  // four round trips fewer.
  const [bad, stages] = await Promise.all([
    tx.q.all<{ found: number }>(sql`
      SELECT 1 AS found FROM steps
      WHERE run_id = ${run.id} AND stage_seq = ${stageSeq} AND status IN ('failed', 'cancelled') LIMIT 1`),
    tx.q.all<{ name: string; final: number; status: string }>(sql`
      SELECT name, final, status FROM stages WHERE run_id = ${run.id} AND seq = ${stageSeq}`),
  ])
  const stage = stages[0]
  if (stage === undefined || (stage.status !== 'running' && stage.status !== 'pending')) return
  const failed = bad.length > 0
  await Promise.all([
    tx.q.run(sql`
      UPDATE stages SET status = ${failed ? 'failed' : 'completed'}, completed_at = ${now}
      WHERE run_id = ${run.id} AND seq = ${stageSeq}`),
    writeLog(
      tx,
      run.id,
      {
        entityType: 'stage',
        entityId: stage.name,
        level: failed ? 'error' : 'info',
        message: `stage ${stage.name} ${failed ? 'failed' : 'completed'}`,
      },
      now,
    ),
  ])

  if (!failed && Number(stage.final) === 1) {
    await endRun(tx, run.id, { status: 'completed' }, now)
    return
  }
  if (failed) {
    // Stages planned after a failed one never start; the flow decides what happens next.
    await Promise.all([
      tx.q.run(sql`
        UPDATE steps SET status = 'cancelled', available_at = NULL, completed_at = ${now}, updated_at = ${now}
        WHERE run_id = ${run.id} AND stage_seq > ${stageSeq} AND status = 'pending'`),
      tx.q.run(sql`
        UPDATE stages SET status = 'cancelled', completed_at = ${now}
        WHERE run_id = ${run.id} AND seq > ${stageSeq} AND status = 'pending'`),
    ])
  }
  const lastCompleted = failed
    ? ((
        await tx.q.all<{ name: string }>(sql`
          SELECT name FROM stages WHERE run_id = ${run.id} AND status = 'completed' ORDER BY seq DESC LIMIT 1`)
      )[0]?.name ?? null)
    : stage.name
  await Promise.all([
    queueFlowCall(tx, run, { completedStage: lastCompleted, failedStage: failed ? stage.name : null }, now),
    startNextStage(tx, run.id, isRunOpen(run.status), now),
  ])
}
