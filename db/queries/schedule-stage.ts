import { sql } from 'drizzle-orm'
import { validateStageGraph } from '../rules/validate-stage.js'
import type { ScheduledStage, StageDefinition } from '../store.js'
import { fail, ok, type Outcome } from '../types.js'
import { startNextStage } from './start-next-stage.js'
import { chunks, isRunActive, isRunOpen, lockRun, type Tx } from './tx.js'
import { writeLog } from './write-log.js'

const INSERT_CHUNK = 100

/**
 * Adds a stage and its steps to a run. Posting the same stage again with the same step ids answers
 * the first result and changes nothing, so a flow's curl may retry. Each step starts with the
 * number of its dependencies not yet completed; the stage starts when every earlier one is settled.
 */
export async function scheduleStage(
  tx: Tx,
  runId: string,
  def: StageDefinition,
  now: number,
): Promise<Outcome<ScheduledStage>> {
  // The run's lock and the three reads go out together (PostgreSQL runs them in this order, the
  // lock first); so do the writes further down, with the COMMIT.
  const [run, same, known, last] = await Promise.all([
    lockRun(tx, runId),
    tx.q.all<{ seq: number }>(sql`SELECT seq FROM stages WHERE run_id = ${runId} AND name = ${def.stage}`),
    tx.q.all<{ id: number; step_id: string; status: string; stage_seq: number }>(sql`
      SELECT id, step_id, status, stage_seq FROM steps WHERE run_id = ${runId}`),
    tx.q.all<{ seq: number | null }>(sql`SELECT MAX(seq) AS seq FROM stages WHERE run_id = ${runId}`),
  ])
  if (run === null) return fail('RUN_NOT_FOUND', { runId })
  const requested = def.steps.map((step) => step.id)

  if (same[0] !== undefined) {
    const seq = Number(same[0].seq)
    const existing = known
      .filter((row) => Number(row.stage_seq) === seq)
      .sort((a, b) => Number(a.id) - Number(b.id))
      .map((row) => row.step_id)
    const sameIds = existing.length === requested.length && requested.every((id) => existing.includes(id))
    if (!sameIds) return fail('STAGE_CONFLICT', { stage: def.stage, existingSteps: existing })
    return ok({ stage: def.stage, scheduled: existing.length, steps: existing })
  }
  if (!isRunActive(run.status)) return fail('RUN_NOT_ACTIVE', { runId, status: String(run.status) })

  const statusOf = new Map(known.map((row) => [row.step_id, row.status]))
  const problem = validateStageGraph(def.steps, new Set(statusOf.keys()))
  if (problem !== null) {
    const { code, ...details } = problem
    return fail(code, details)
  }

  const seq = Number(last[0]?.seq ?? 0) + 1
  const flowName = String(run.flow_name)
  const writes: Promise<unknown>[] = [
    tx.q.run(sql`
      INSERT INTO stages (run_id, seq, name, final, status, created_at)
      VALUES (${runId}, ${seq}, ${def.stage}, ${def.final ? 1 : 0}, 'pending', ${now})`),
  ]
  for (const part of chunks(def.steps, INSERT_CHUNK)) {
    const values = part.map((step) => {
      const deps = step.dependsOn ?? []
      const unmet = deps.filter((dep) => statusOf.get(dep) !== 'completed').length
      return sql`(${runId}, ${step.id}, ${flowName}, ${seq}, ${def.stage}, ${step.name}, 'pending',
        ${tx.d.json(deps)}, ${unmet}, ${step.maxRetries ?? 0}, ${tx.d.json(step.env ?? {})},
        ${step.timeoutSeconds ?? null}, ${now}, ${now})`
    })
    writes.push(
      tx.q.run(sql`
        INSERT INTO steps (run_id, step_id, flow_name, stage_seq, stage_name, name, status, depends_on,
          unmet_deps, max_retries, env, timeout_seconds, created_at, updated_at)
        VALUES ${sql.join(values, sql`, `)}`),
    )
    const edges = part.flatMap((step) =>
      (step.dependsOn ?? []).map((dep) => sql`(${runId}, ${dep}, ${step.id})`),
    )
    for (const edgePart of chunks(edges, INSERT_CHUNK * 2)) {
      writes.push(
        tx.q.run(sql`
          INSERT INTO step_dependencies (run_id, depends_on, step_id) VALUES ${sql.join(edgePart, sql`, `)}
          ON CONFLICT DO NOTHING`),
      )
    }
  }
  writes.push(
    writeLog(
      tx,
      runId,
      {
        entityType: 'stage',
        entityId: def.stage,
        level: 'info',
        message: `stage ${def.stage} scheduled with ${requested.length} step(s)${def.final ? ' (final)' : ''}`,
      },
      now,
    ),
  )
  // Its first statement reads the stages just inserted: sent after them, it runs after them.
  writes.push(startNextStage(tx, runId, isRunOpen(run.status), now))
  // Nothing below needs their answers, so COMMIT goes out with them: a stage is two round trips.
  tx.commitWith(Promise.all(writes))
  return ok({ stage: def.stage, scheduled: requested.length, steps: requested })
}
