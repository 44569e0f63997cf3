// Column rows (snake_case, JSON as text) to the API's row types (camelCase, parsed JSON). The
// queries are `sql` templates whose rows come back untyped; each mapper reads its row through the
// column names of the table in db/sqlite/schema.ts (the same in db/postgres/schema.ts: the
// schema-twins test holds them together), so a column renamed or misspelt there is a type error
// here. The values stay `unknown`: each driver answers its own types (text JSON and integer
// booleans on SQLite, bigint strings on PostgreSQL), which the mappers convert.

import type { RetryBackoff } from '../rules/decide-attempt.js'
import type { attempts, flowCalls, logs, runs, stages, steps } from '../sqlite/schema.js'
import { parseJson, toNullableNumber, toNumber } from '../sql-executor.js'
import type { Attempt, FlowCall, Json, LogEntry, Run, Stage, Step } from '../types.js'

export type Row = Record<string, unknown>

type Columns<Table> = Table extends { _: { columns: infer C } } ? C : never
/** A table's row as the driver answers it: its column names (not drizzle's property names). */
export type RowOf<Table> = {
  [
    K in keyof Columns<Table> as Columns<Table>[K] extends { _: { name: infer Name extends string } }
      ? Name
      : never
  ]: unknown
}

const text = (value: unknown): string | null => (value === null || value === undefined ? null : String(value))

// GET /runs/{run} on SQLite has the database write these keys (read-runs.ts RUN_ANSWER_SQLITE):
// a change here is a change there, which test/store/get-run.test.ts holds together.
export function mapRun(untyped: Row): Run {
  const row = untyped as RowOf<typeof runs>
  return {
    id: String(row.id),
    flowName: String(row.flow_name),
    status: row.status as Run['status'],
    input: parseJson<Json>(row.input, null),
    metadata: parseJson<Json>(row.metadata, null),
    name: text(row.name),
    description: text(row.description),
    output: parseJson<Json>(row.output, null),
    error: parseJson<Json>(row.error, null),
    terminationReason: text(row.termination_reason),
    createdAt: toNumber(row.created_at),
    startedAt: toNullableNumber(row.started_at),
    completedAt: toNullableNumber(row.completed_at),
    updatedAt: toNumber(row.updated_at),
  }
}

export function mapStage(untyped: Row): Stage {
  const row = untyped as RowOf<typeof stages>
  return {
    runId: String(row.run_id),
    name: String(row.name),
    seq: toNumber(row.seq),
    final: toNumber(row.final) === 1,
    status: row.status as Stage['status'],
    createdAt: toNumber(row.created_at),
    startedAt: toNullableNumber(row.started_at),
    completedAt: toNullableNumber(row.completed_at),
  }
}

export function mapStep(untyped: Row): Step {
  const row = untyped as RowOf<typeof steps>
  return {
    runId: String(row.run_id),
    id: String(row.step_id),
    name: String(row.name),
    stage: String(row.stage_name),
    status: row.status as Step['status'],
    dependsOn: parseJson<string[]>(row.depends_on, []),
    maxRetries: toNumber(row.max_retries),
    retryCount: toNumber(row.retry_count),
    attempt: toNumber(row.attempt),
    env: parseJson<Record<string, string>>(row.env, {}),
    timeoutSeconds: toNullableNumber(row.timeout_seconds),
    exitCode: toNullableNumber(row.exit_code),
    stdout: text(row.stdout),
    stderr: text(row.stderr),
    fields: parseJson<Step['fields']>(row.fields, {}),
    error: parseJson<Json>(row.error, null),
    terminationReason: text(row.termination_reason),
    workerId: text(row.worker_id),
    createdAt: toNumber(row.created_at),
    startedAt: toNullableNumber(row.started_at),
    completedAt: toNullableNumber(row.completed_at),
    heartbeatAt: toNullableNumber(row.heartbeat_at),
    lostAttempts: toNumber(row.lost_attempts),
    retryDelaySeconds: toNumber(row.retry_delay_ms) / 1000,
    retryBackoff: row.retry_backoff as RetryBackoff,
  }
}

export function mapLog(untyped: Row): LogEntry {
  const row = untyped as RowOf<typeof logs>
  return {
    id: String(row.id),
    runId: String(row.run_id),
    entityType: String(row.entity_type),
    entityId: text(row.entity_id),
    level: row.level as LogEntry['level'],
    message: String(row.message),
    metadata: parseJson<Json>(row.metadata, null),
    createdAt: toNumber(row.created_at),
  }
}

export function mapFlowCall(untyped: Row): FlowCall {
  const row = untyped as RowOf<typeof flowCalls>
  return {
    id: toNumber(row.id),
    runId: String(row.run_id),
    flowName: String(row.flow_name),
    completedStage: text(row.completed_stage),
    failedStage: text(row.failed_stage),
    status: row.status as FlowCall['status'],
    attempt: toNumber(row.attempt),
    exitCode: toNullableNumber(row.exit_code),
    stdout: text(row.stdout),
    stderr: text(row.stderr),
    terminationReason: text(row.termination_reason),
    createdAt: toNumber(row.created_at),
    startedAt: toNullableNumber(row.started_at),
    completedAt: toNullableNumber(row.completed_at),
    lostAttempts: toNumber(row.lost_attempts),
  }
}

export function mapAttempt(untyped: Row): Attempt {
  const row = untyped as RowOf<typeof attempts>
  return {
    attempt: toNumber(row.attempt),
    workerId: text(row.worker_id),
    startedAt: toNullableNumber(row.started_at),
    endedAt: toNumber(row.ended_at),
    exitCode: toNullableNumber(row.exit_code),
    signal: text(row.signal),
    terminationReason: String(row.termination_reason),
    stdoutTail: text(row.stdout_tail),
    stderrTail: text(row.stderr_tail),
  }
}
