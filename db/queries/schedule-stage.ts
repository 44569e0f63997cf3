import { sql, type SQL } from 'drizzle-orm'
import { secretValues } from '../../security/secret-names.js'
import { parseJson, type Dialect } from '../sql-executor.js'
import { validateStageGraph } from '../rules/validate-stage.js'
import type { ScheduledStage, ScheduledStep, StageDefinition } from '../store.js'
import { fail, ok, type Outcome, type StepStatus } from '../types.js'
import { startNextStage } from './start-next-stage.js'
import { chunks, isRunActive, isRunOpen, lockRunStatement, type Tx } from './tx.js'
import { logStatement } from './write-log.js'

/** Steps per INSERT: each statement carries its rows as one JSON parameter (see insertSteps). */
const INSERT_CHUNK = 1_000

/** One step's row as the INSERTs below read it from JSON; the keys are their column names. */
interface StepRow {
  id: string
  name: string
  deps: string[]
  unmet: number
  max_retries: number
  env: Record<string, string>
  timeout: number | null
  retry_delay_ms: number
  retry_backoff: string
}

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
    const rows: StepRow[] = part.map((step) => {
      const deps = step.dependsOn ?? []
      return {
        id: step.id,
        name: step.name,
        deps,
        unmet: deps.filter((dep) => statusOf.get(dep) !== 'completed').length,
        max_retries: step.maxRetries ?? 0,
        env: step.env ?? {},
        timeout: step.timeoutSeconds ?? null,
        retry_delay_ms: Math.round((step.retryDelaySeconds ?? 0) * 1000),
        retry_backoff: step.retryBackoff ?? 'exponential',
      }
    })
    const json = JSON.stringify(rows)
    writes.push(insertSteps(tx.d, { runId, flowName, seq, stage: def.stage, now }, json))
    if (rows.some((row) => row.deps.length > 0)) writes.push(insertEdges(tx.d, runId, json))
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

const STEP_ROW_COLUMNS = `id text, name text, deps jsonb, unmet integer, max_retries integer, env jsonb,
  timeout integer, retry_delay_ms bigint, retry_backoff text`

/**
 * The INSERT of a chunk of a stage's steps, whose rows arrive as one JSON array that the database
 * expands (json_each, jsonb_to_recordset), in the array's order. Binding every value instead took
 * 16 parameters a step: a 10,000-step stage built 160,000 of them, which cost the stage post most of
 * its time and the server 60 MiB of memory.
 */
function insertSteps(
  d: Dialect,
  at: { runId: string; flowName: string; seq: number; stage: string; now: number },
  json: string,
): SQL {
  const { runId, flowName, seq, stage, now } = at
  const columns = sql`INSERT INTO steps (run_id, step_id, flow_name, stage_seq, stage_name, name, status,
    depends_on, unmet_deps, max_retries, env, timeout_seconds, retry_delay_ms, retry_backoff, created_at, updated_at)`
  if (d.name === 'postgres') {
    return sql`${columns}
      SELECT ${runId}, r.id, ${flowName}, ${seq}, ${stage}, r.name, 'pending', r.deps, r.unmet, r.max_retries,
        r.env, r.timeout, r.retry_delay_ms, r.retry_backoff, ${now}, ${now}
      FROM ROWS FROM (jsonb_to_recordset(${json}::jsonb) AS (${sql.raw(STEP_ROW_COLUMNS)})) WITH ORDINALITY
        AS r(id, name, deps, unmet, max_retries, env, timeout, retry_delay_ms, retry_backoff, ord)
      ORDER BY r.ord`
  }
  return sql`${columns}
    SELECT ${runId}, r.value ->> 'id', ${flowName}, ${seq}, ${stage}, r.value ->> 'name', 'pending',
      r.value ->> 'deps', r.value ->> 'unmet', r.value ->> 'max_retries', r.value ->> 'env',
      r.value ->> 'timeout', r.value ->> 'retry_delay_ms', r.value ->> 'retry_backoff', ${now}, ${now}
    FROM json_each(${json}) r ORDER BY r.key`
}

/** The dependency edges of the same chunk of steps, from the same JSON. */
function insertEdges(d: Dialect, runId: string, json: string): SQL {
  if (d.name === 'postgres') {
    return sql`
      INSERT INTO step_dependencies (run_id, depends_on, step_id)
      SELECT ${runId}, dep.value, r.id
      FROM jsonb_to_recordset(${json}::jsonb) AS r(id text, deps jsonb), jsonb_array_elements_text(r.deps) AS dep(value)
      ON CONFLICT DO NOTHING`
  }
  // WHERE true: SQLite needs it to tell an upsert's ON CONFLICT from a join's ON.
  return sql`
    INSERT INTO step_dependencies (run_id, depends_on, step_id)
    SELECT ${runId}, dep.value, r.value ->> 'id' FROM json_each(${json}) r, json_each(r.value -> 'deps') dep
    WHERE true ON CONFLICT DO NOTHING`
}
