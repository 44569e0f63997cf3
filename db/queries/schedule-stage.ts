import { sql, type SQL } from 'drizzle-orm'
import { secretValues } from '../../security/secret-names.js'
import { parseJson, type Dialect } from '../sql-executor.js'
import { validateStageGraph } from '../rules/validate-stage.js'
import type { ScheduledStage, ScheduledStep, StageDefinition } from '../store.js'
import { fail, ok, type Outcome, type StepStatus } from '../types.js'
import { startNextStage } from './start-next-stage.js'
import { chunks, isRunActive, isRunOpen, lockRunStatement, type Tx } from './tx.js'
import { logStatement } from './write-log.js'

const INSERT_CHUNK = 100

/** The run's steps with these ids, by key: a stage post reads these, however long the run. */
export function namedSteps(d: Dialect, runId: string, stepIds: readonly string[]): SQL {
  return sql`SELECT step_id, status FROM steps WHERE run_id = ${runId} AND ${d.isIn(sql`step_id`, stepIds)}`
}

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
  // Only the rows this post names are read: its own step ids (to reject one the run has already)
  // and their dependencies (which must exist, and may have completed), never the run's history.
  const named = [...new Set(def.steps.flatMap((step) => [step.id, ...(step.dependsOn ?? [])]))]
  // One pipeline: the run's lock, then the three reads, which run under it. The writes further
  // down are the transaction's tail, sent with the COMMIT: a stage post is two flights.
  const [locked = [], sameRows = [], knownRows = [], last = []] = await tx.q.pipeline([
    lockRunStatement(tx, runId),
    sql`
      SELECT s.step_id, s.name, s.status
      FROM stages st LEFT JOIN steps s ON s.run_id = st.run_id AND s.stage_seq = st.seq
      WHERE st.run_id = ${runId} AND st.name = ${def.stage} ORDER BY s.id`,
    namedSteps(tx.d, runId, named),
    sql`SELECT MAX(seq) AS seq FROM stages WHERE run_id = ${runId}`,
  ])
  const run = locked[0]
  if (run === undefined) return fail('RUN_NOT_FOUND', { runId })
  const same = sameRows as { step_id: string | null; name: string | null; status: StepStatus | null }[]
  const known = knownRows as { step_id: string; status: string }[]
  const requested = def.steps.map((step) => step.id)

  if (same.length > 0) {
    // The stage as it is now: a re-post answers the steps' current status.
    const existing: ScheduledStep[] = same.flatMap((row) =>
      row.step_id === null
        ? []
        : [{ id: String(row.step_id), name: String(row.name), status: row.status ?? 'pending' }],
    )
    const ids = existing.map((step) => step.id)
    const idSet = new Set(ids)
    const sameIds = ids.length === requested.length && requested.every((id) => idSet.has(id))
    if (!sameIds) return fail('STAGE_CONFLICT', { stage: def.stage, existingSteps: ids })
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
  // In this order: the stage, then its steps and their edges, then what reads them.
  const writes: SQL[] = [
    sql`
      INSERT INTO stages (run_id, seq, name, final, status, created_at)
      VALUES (${runId}, ${seq}, ${def.stage}, ${def.final ? 1 : 0}, 'pending', ${now})`,
  ]
  for (const part of chunks(def.steps, INSERT_CHUNK)) {
    const values = part.map((step) => {
      const deps = step.dependsOn ?? []
      const unmet = deps.filter((dep) => statusOf.get(dep) !== 'completed').length
      return sql`(${runId}, ${step.id}, ${flowName}, ${seq}, ${def.stage}, ${step.name}, 'pending',
        ${tx.d.json(deps)}, ${unmet}, ${step.maxRetries ?? 0}, ${tx.d.json(step.env ?? {})},
        ${step.timeoutSeconds ?? null}, ${Math.round((step.retryDelaySeconds ?? 0) * 1000)},
        ${step.retryBackoff ?? 'exponential'}, ${now}, ${now})`
    })
    writes.push(sql`
      INSERT INTO steps (run_id, step_id, flow_name, stage_seq, stage_name, name, status, depends_on,
        unmet_deps, max_retries, env, timeout_seconds, retry_delay_ms, retry_backoff, created_at, updated_at)
      VALUES ${sql.join(values, sql`, `)}`)
    const edges = part.flatMap((step) =>
      (step.dependsOn ?? []).map((dep) => sql`(${runId}, ${dep}, ${step.id})`),
    )
    for (const edgePart of chunks(edges, INSERT_CHUNK * 2)) {
      writes.push(sql`
        INSERT INTO step_dependencies (run_id, depends_on, step_id) VALUES ${sql.join(edgePart, sql`, `)}
        ON CONFLICT DO NOTHING`)
    }
  }
  writes.push(
    logStatement(
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
  const secrets = newSecrets(run.secrets, def)
  if (secrets !== null) writes.push(sql`UPDATE runs SET secrets = ${tx.d.json(secrets)} WHERE id = ${runId}`)
  // Its first statement reads the stages just inserted: queued after them, it runs after them.
  writes.push(...startNextStage(tx, runId, isRunOpen(run.status), now))
  tx.q.beforeCommit(writes)
  return ok({
    stage: def.stage,
    scheduled: requested.length,
    steps: def.steps.map((step) => ({ id: step.id, name: step.name, status: 'pending' as const })),
  })
}

/** The run's secret values with this stage's added, or null when the stage adds none. */
function newSecrets(stored: unknown, def: StageDefinition): string[] | null {
  const known = parseJson<string[]>(stored, [])
  const added = [...new Set(def.steps.flatMap((step) => secretValues(step.env ?? {})))].filter(
    (value) => !known.includes(value),
  )
  return added.length === 0 ? null : [...known, ...added]
}
