import { sql, type SQL } from 'drizzle-orm'
import { endRun } from './end-run.js'
import { queueFlowCall } from './queue-flow-call.js'
import { startNextStage } from './start-next-stage.js'
import { isRunOpen, type Tx } from './tx.js'
import { logStatement } from './write-log.js'

export interface RunRef {
  id: string
  flowName: string
  status: string
}

export interface SettledStage {
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

/** The settle's one statement, for a caller that needs nothing else (see closeStageStatement). */
export async function closeStage(
  tx: Tx,
  runId: string,
  stageSeq: SQL,
  now: number,
): Promise<SettledStage | undefined> {
  const settled = await tx.q.all<SettledStage>(closeStageStatement(runId, stageSeq, now))
  return settled[0]
}

/**
 * Asked on every step end, and answered by the write itself: the stage row by key, and an index
 * probe for one open sibling. Most step ends match nothing here and change nothing. The verdict is
 * worked out in the same statement, so a stage's end costs no round trip of reads first.
 * `stageSeq` may be a subquery (a NULL settles nothing). `ending` names a step this same statement
 * is completing (PostgreSQL's step end, one statement): its row still reads as running here.
 */
export function closeStageStatement(runId: string, stageSeq: SQL, now: number, ending?: string): SQL {
  return sql`
    UPDATE stages SET completed_at = ${now}, status = CASE WHEN EXISTS (
        SELECT 1 FROM steps
        WHERE run_id = ${runId} AND stage_seq = stages.seq AND status IN ('failed', 'cancelled'))
      THEN 'failed' ELSE 'completed' END
    WHERE run_id = ${runId} AND seq = (${stageSeq}) AND status IN ('pending', 'running')
      AND NOT ${openStepIn(runId, sql`stages.seq`, ending)}
    RETURNING seq, name, final, status`
}

/**
 * Whether a step of the stage is pending or running (other than `except`): one probe of
 * steps_run_stage per status. Written as `status IN ('pending', 'running')`, PostgreSQL planned it
 * as a probe of (run_id, stage_seq) that filters the statuses, or as a scan of the table, and read
 * the stage's finished steps first on every step's end (1,500 rows for one end in a stage of 2,000).
 */
export function openStepIn(runId: string, stageSeq: SQL, except?: string): SQL {
  // Aliased: `stageSeq` may name the outer statement's `steps` row.
  const other = except === undefined ? sql`` : sql`AND open.step_id <> ${except}`
  const inStatus = (status: SQL) => sql`EXISTS (
      SELECT 1 FROM steps AS open
      WHERE open.run_id = ${runId} AND open.stage_seq = ${stageSeq} AND open.status = ${status} ${other})`
  return sql`(${inStatus(sql`'pending'`)} OR ${inStatus(sql`'running'`)})`
}

/**
 * What follows a stage's settle: the run ends, or the flow is called and the next stage starts.
 * Writes that nothing later needs go to the transaction's tail; they ride with its COMMIT.
 */
export async function moveOn(
  tx: Tx,
  run: RunRef,
  stage: SettledStage | undefined,
  now: number,
): Promise<void> {
  if (stage === undefined) return
  const failed = stage.status === 'failed'
  tx.q.systemLog({
    event: 'stage_done',
    runId: run.id,
    flow: run.flowName,
    stage: stage.name,
    status: failed ? 'failed' : 'completed',
  })
  const log = logStatement(
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
    tx.q.beforeCommit([log])
    await endRun(tx, run.id, { status: 'completed' }, now)
    return
  }
  if (!failed) {
    // The flow is told this stage, and the next stage (if the flow posted it already) starts.
    tx.q.beforeCommit([
      log,
      queueFlowCall(tx, run, { completedStage: stage.name, failedStage: null }, now),
      ...startNextStage(tx, run.id, isRunOpen(run.status), now),
    ])
    return
  }
  // Stages planned after a failed one never start; the flow decides what happens next, told the
  // last stage that completed.
  const [lastCompleted = []] = await tx.q.pipeline([
    sql`SELECT name FROM stages WHERE run_id = ${run.id} AND status = 'completed' ORDER BY seq DESC LIMIT 1`,
    sql`
      UPDATE steps SET status = 'cancelled', available_at = NULL, completed_at = ${now}, updated_at = ${now}
      WHERE run_id = ${run.id} AND stage_seq > ${Number(stage.seq)} AND status = 'pending'`,
    sql`
      UPDATE stages SET status = 'cancelled', completed_at = ${now}
      WHERE run_id = ${run.id} AND seq > ${Number(stage.seq)} AND status = 'pending'`,
  ])
  const completedStage = lastCompleted[0] === undefined ? null : String(lastCompleted[0].name)
  tx.q.beforeCommit([
    log,
    queueFlowCall(tx, run, { completedStage, failedStage: stage.name }, now),
    ...startNextStage(tx, run.id, isRunOpen(run.status), now),
  ])
}
