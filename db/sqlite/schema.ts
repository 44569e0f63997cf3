// The typed description of the SQLite schema, table for table what migrations/0001_init.up.sql
// creates. The migrations are the source of truth (they also carry the down files); the queries are
// `sql` templates, so this file is for typed reads and for checking the two dialects stay twins
// (test/store/schema-twins.test.ts compares it with db/postgres/schema.ts).

import { sql } from 'drizzle-orm'
import { index, integer, primaryKey, sqliteTable, text, unique } from 'drizzle-orm/sqlite-core'
import type { Fields, Json } from '../types.js'

export const runs = sqliteTable(
  'runs',
  {
    id: text('id').primaryKey(),
    flowName: text('flow_name').notNull(),
    status: text('status').notNull(),
    input: text('input', { mode: 'json' }).$type<Json>(),
    metadata: text('metadata', { mode: 'json' }).$type<Json>(),
    name: text('name'),
    description: text('description'),
    output: text('output', { mode: 'json' }).$type<Json>(),
    error: text('error', { mode: 'json' }).$type<Json>(),
    terminationReason: text('termination_reason'),
    createdAt: integer('created_at').notNull(),
    startedAt: integer('started_at'),
    completedAt: integer('completed_at'),
    updatedAt: integer('updated_at').notNull(),
    secrets: text('secrets', { mode: 'json' }).$type<string[]>(),
  },
  (t) => [
    // GET /runs orders (db/queries/read-runs.ts, migration 0015).
    index('runs_created_at').on(t.createdAt, t.id),
    index('runs_flow_name_created_at').on(t.flowName, t.createdAt, t.id),
    index('runs_status_created_at').on(t.status, t.createdAt, t.id),
    index('runs_started_at_desc').on(sql`(COALESCE(started_at, -1))`, t.id),
    index('runs_started_at_asc').on(sql`(COALESCE(started_at, 9007199254740991))`, t.id),
    index('runs_completed_at_desc').on(sql`(COALESCE(completed_at, -1))`, t.id),
    index('runs_completed_at_asc').on(sql`(COALESCE(completed_at, 9007199254740991))`, t.id),
    index('runs_finished_completed_at')
      .on(t.completedAt)
      .where(sql`status IN ('completed', 'failed')`),
  ],
)

export const stages = sqliteTable(
  'stages',
  {
    runId: text('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    name: text('name').notNull(),
    final: integer('final').notNull(),
    status: text('status').notNull(),
    createdAt: integer('created_at').notNull(),
    startedAt: integer('started_at'),
    completedAt: integer('completed_at'),
  },
  (t) => [primaryKey({ columns: [t.runId, t.seq] }), unique().on(t.runId, t.name)],
)

export const steps = sqliteTable(
  'steps',
  {
    id: integer('id').primaryKey(),
    runId: text('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    stepId: text('step_id').notNull(),
    flowName: text('flow_name').notNull(),
    stageSeq: integer('stage_seq').notNull(),
    stageName: text('stage_name').notNull(),
    name: text('name').notNull(),
    status: text('status').notNull(),
    dependsOn: text('depends_on', { mode: 'json' }).$type<string[]>().notNull(),
    unmetDeps: integer('unmet_deps').notNull(),
    maxRetries: integer('max_retries').notNull(),
    retryCount: integer('retry_count').notNull().default(0),
    attempt: integer('attempt').notNull().default(0),
    env: text('env', { mode: 'json' }).$type<Record<string, string>>().notNull(),
    timeoutSeconds: integer('timeout_seconds'),
    availableAt: integer('available_at'),
    workerId: text('worker_id'),
    claimedAt: integer('claimed_at'),
    heartbeatAt: integer('heartbeat_at'),
    exitCode: integer('exit_code'),
    stdout: text('stdout'),
    stderr: text('stderr'),
    fields: text('fields', { mode: 'json' })
      .$type<Fields>()
      .notNull()
      .default(sql`'{}'`),
    error: text('error', { mode: 'json' }).$type<Json>(),
    terminationReason: text('termination_reason'),
    createdAt: integer('created_at').notNull(),
    startedAt: integer('started_at'),
    completedAt: integer('completed_at'),
    updatedAt: integer('updated_at').notNull(),
    lostAttempts: integer('lost_attempts').notNull().default(0),
    retryDelayMs: integer('retry_delay_ms').notNull().default(0),
    retryBackoff: text('retry_backoff').notNull().default('fixed'),
  },
  (t) => [
    unique().on(t.runId, t.stepId),
    index('steps_claimable')
      .on(t.availableAt, t.id)
      .where(sql`status = 'pending' AND available_at IS NOT NULL`),
    index('steps_running')
      .on(t.heartbeatAt)
      .where(sql`status = 'running'`),
    index('steps_run_stage').on(t.runId, t.stageSeq, t.status),
  ],
)

export const stepDependencies = sqliteTable(
  'step_dependencies',
  {
    runId: text('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    dependsOn: text('depends_on').notNull(),
    stepId: text('step_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.dependsOn, t.stepId] })],
)

export const flowCalls = sqliteTable(
  'flow_calls',
  {
    id: integer('id').primaryKey(),
    runId: text('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    flowName: text('flow_name').notNull(),
    completedStage: text('completed_stage'),
    failedStage: text('failed_stage'),
    status: text('status').notNull(),
    attempt: integer('attempt').notNull().default(0),
    availableAt: integer('available_at'),
    workerId: text('worker_id'),
    claimedAt: integer('claimed_at'),
    heartbeatAt: integer('heartbeat_at'),
    exitCode: integer('exit_code'),
    stdout: text('stdout'),
    stderr: text('stderr'),
    createdAt: integer('created_at').notNull(),
    startedAt: integer('started_at'),
    completedAt: integer('completed_at'),
    refusal: text('refusal', { mode: 'json' }).$type<Json>(),
    lostAttempts: integer('lost_attempts').notNull().default(0),
    terminationReason: text('termination_reason'),
  },
  (t) => [
    index('flow_calls_claimable')
      .on(t.availableAt, t.id)
      .where(sql`status = 'queued'`),
    index('flow_calls_running')
      .on(t.heartbeatAt)
      .where(sql`status = 'running'`),
    index('flow_calls_run').on(t.runId, t.status),
  ],
)

export const logs = sqliteTable(
  'logs',
  {
    id: integer('id').primaryKey(),
    runId: text('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    entityType: text('entity_type').notNull(),
    entityId: text('entity_id'),
    level: text('level').notNull(),
    message: text('message').notNull(),
    metadata: text('metadata', { mode: 'json' }).$type<Json>(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('logs_run_id').on(t.runId, t.id)],
)

export const settings = sqliteTable('settings', {
  name: text('name').primaryKey(),
  value: text('value').notNull(),
})

/** A flow.json schedule's decided slots (migration 0009): one row per slot, whoever decided it. */
export const scheduleSlots = sqliteTable(
  'schedule_slots',
  {
    flowName: text('flow_name').notNull(),
    scheduleIndex: integer('schedule_index').notNull(),
    slotAt: integer('slot_at').notNull(),
    outcome: text('outcome').notNull(),
    runId: text('run_id'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.flowName, t.scheduleIndex, t.slotAt] })],
)

export const workers = sqliteTable('workers', {
  id: text('id').primaryKey(),
  host: text('host').notNull(),
  pid: integer('pid').notNull(),
  kind: text('kind').notNull(),
  startedAt: integer('started_at').notNull(),
  seenAt: integer('seen_at').notNull(),
  running: integer('running').notNull(),
  stepLimit: integer('step_limit').notNull(),
  heartbeatMs: integer('heartbeat_ms').notNull(),
})

/** Every finished attempt of a step or a flow call (migration 0011), oldest first by attempt. */
export const attempts = sqliteTable(
  'attempts',
  {
    id: integer('id').primaryKey(),
    runId: text('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    stepId: text('step_id'),
    flowCallId: integer('flow_call_id'),
    attempt: integer('attempt').notNull(),
    workerId: text('worker_id'),
    startedAt: integer('started_at'),
    endedAt: integer('ended_at').notNull(),
    exitCode: integer('exit_code'),
    signal: text('signal'),
    terminationReason: text('termination_reason').notNull(),
    stdoutTail: text('stdout_tail'),
    stderrTail: text('stderr_tail'),
  },
  (t) => [
    index('attempts_run_step').on(t.runId, t.stepId, t.attempt),
    index('attempts_run_flow_call').on(t.runId, t.flowCallId, t.attempt),
  ],
)

/** +1/−1 per change of a run's (flow, status), appended by triggers (migration 0016). */
export const runCountChanges = sqliteTable('run_count_changes', {
  id: integer('id').primaryKey(),
  flowName: text('flow_name').notNull(),
  status: text('status').notNull(),
  delta: integer('delta').notNull(),
})
