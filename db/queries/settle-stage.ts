import { sql, type SQL } from 'drizzle-orm'
import { endRun } from './end-run.js'
import { queueFlowCall } from './queue-flow-call.js'
import { startNextStage } from './start-next-stage.js'
import { isRunOpen, type Tx } from './tx.js'
import { writeLog } from './write-log.js'

export interface RunRef {
  id: string
  flowName: string
  status: string
}

interface SettledStage {
  seq: number
  name: string
  final: number
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
  await moveOn(tx, run, await closeStage(tx, run.id, sql`${stageSeq}`, now), now)
}

/**
 * The settle's one statement, for a caller that sends it before it knows the stage (a step's
 * success names it through the step row): `stageSeq` may be a subquery, and a NULL settles nothing.
 */
export async function closeStage(
  tx: Tx,
  runId: string,
  stageSeq: SQL,
  now: number,
): Promise<SettledStage | undefined> {
  // Asked on every step end, and answered by the write itself: the stage row by key, and an index
  // probe for one open sibling. Most step ends match nothing here and change nothing. The verdict
  // is worked out in the same statement, so a stage's end costs no round trip of reads first.
  const settled = await tx.q.all<SettledStage>(sql`
    UPDATE stages SET completed_at = ${now}, status = CASE WHEN EXISTS (
        SELECT 1 FROM steps
        WHERE run_id = ${runId} AND stage_seq = stages.seq AND status IN ('failed', 'cancelled'))
      THEN 'failed' ELSE 'completed' END
    WHERE run_id = ${runId} AND seq = (${stageSeq}) AND status IN ('pending', 'running')
      AND NOT EXISTS (
        SELECT 1 FROM steps
        WHERE run_id = ${runId} AND stage_seq = stages.seq AND status IN ('pending', 'running'))
    RETURNING seq, name, final, status`)
  return settled[0]
}

/** What follows a stage's settle: the run ends, or the flow is called and the next stage starts. */
export async function moveOn(
  tx: Tx,
  run: RunRef,
  stage: SettledStage | undefined,
  now: number,
): Promise<void> {
  if (stage === undefined) return
  const failed = stage.status === 'failed'
  const log = writeLog(
    tx,
    run.id,
    {
      entityType: 'stage',
      entityId: stage.name,
      level: failed ? 'error' : 'info',
      message: `stage ${stage.name} ${failed ? 'failed' : 'completed'}`,
    },
    now,
  )

  if (!failed && Number(stage.final) === 1) {
    await Promise.all([log, endRun(tx, run.id, { status: 'completed' }, now)])
    return
  }
  if (!failed) {
    // The flow is told this stage; nothing needs these answers, so COMMIT goes out with them.
    tx.commitWith(
      Promise.all([
        log,
        queueFlowCall(tx, run, { completedStage: stage.name, failedStage: null }, now),
        startNextStage(tx, run.id, isRunOpen(run.status), now),
      ]),
    )
    return
  }
  // Stages planned after a failed one never start; the flow decides what happens next, told the
  // last stage that completed.
  const [lastCompleted] = await Promise.all([
    lastCompletedStage(tx, run.id),
    log,
    tx.q.run(sql`
      UPDATE steps SET status = 'cancelled', available_at = NULL, completed_at = ${now}, updated_at = ${now}
      WHERE run_id = ${run.id} AND stage_seq > ${Number(stage.seq)} AND status = 'pending'`),
    tx.q.run(sql`
      UPDATE stages SET status = 'cancelled', completed_at = ${now}
      WHERE run_id = ${run.id} AND seq > ${Number(stage.seq)} AND status = 'pending'`),
  ])
  await Promise.all([
    queueFlowCall(tx, run, { completedStage: lastCompleted, failedStage: stage.name }, now),
    startNextStage(tx, run.id, isRunOpen(run.status), now),
  ])
}

async function lastCompletedStage(tx: Tx, runId: string): Promise<string | null> {
  const rows = await tx.q.all<{ name: string }>(sql`
    SELECT name FROM stages WHERE run_id = ${runId} AND status = 'completed' ORDER BY seq DESC LIMIT 1`)
  return rows[0]?.name ?? null
}
