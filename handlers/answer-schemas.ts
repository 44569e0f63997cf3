// valibot schemas of what the API answers, shared by several endpoints: runs, stages, steps, flow
// calls, logs, flows and the error body. Handlers do not validate their own answers with them; the
// OpenAPI document (handlers/openapi/) is made from them, and test/e2e/openapi-answers.test.ts
// checks real answers against that document. Objects are open (v.object): a field added later
// does not make an older client's schema wrong.

import * as v from 'valibot'
import { LOG_ENTITY_TYPES, LOG_LEVELS, RUN_STATUSES, STEP_STATUSES, WORKER_KINDS } from '../db/types.js'
import { JsonObject, JsonValue } from './shared-schemas.js'

const STAGE_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const
const FLOW_CALL_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const

/** Epoch milliseconds. */
export const Millis = v.pipe(v.number(), v.integer(), v.description('epoch milliseconds'))
const MaybeMillis = v.nullable(Millis)
const MaybeText = v.nullable(v.string())

export const ErrorAnswer = v.object({
  error: v.string(),
  code: v.string(),
  details: JsonValue,
})

export const WaitingForAnswer = v.variant('reason', [
  v.object({ reason: v.literal('paused') }),
  v.object({ reason: v.literal('dependencies'), steps: v.array(v.string()) }),
  v.object({ reason: v.literal('earlier_stage'), stage: v.string() }),
  v.object({ reason: v.literal('retry_delay'), until: Millis }),
  v.object({ reason: v.literal('no_worker') }),
  v.object({ reason: v.literal('concurrency_limit') }),
  v.object({ reason: v.literal('queued') }),
])

export const RunAnswer = v.object({
  id: v.string(),
  flowName: v.string(),
  status: v.picklist(RUN_STATUSES),
  input: JsonValue,
  metadata: JsonValue,
  name: MaybeText,
  description: MaybeText,
  output: JsonValue,
  error: JsonValue,
  terminationReason: MaybeText,
  createdAt: Millis,
  startedAt: MaybeMillis,
  completedAt: MaybeMillis,
  updatedAt: Millis,
})

export const StageAnswer = v.object({
  runId: v.string(),
  name: v.string(),
  seq: v.pipe(v.number(), v.integer()),
  final: v.boolean(),
  status: v.picklist(STAGE_STATUSES),
  createdAt: Millis,
  startedAt: MaybeMillis,
  completedAt: MaybeMillis,
})

export const RunWithStagesAnswer = v.object({
  ...RunAnswer.entries,
  stages: v.array(StageAnswer),
  waitingFor: v.optional(v.nullable(WaitingForAnswer)),
})

const Count = v.pipe(v.number(), v.integer(), v.minValue(0))

export const AttemptAnswer = v.object({
  attempt: v.pipe(v.number(), v.integer()),
  workerId: MaybeText,
  startedAt: MaybeMillis,
  endedAt: Millis,
  exitCode: v.nullable(v.pipe(v.number(), v.integer())),
  signal: MaybeText,
  terminationReason: v.pipe(v.string(), v.description('exit, signal, timeout, lease_expired, …')),
  stdoutTail: MaybeText,
  stderrTail: MaybeText,
})

export const StepAnswer = v.object({
  runId: v.string(),
  id: v.string(),
  name: v.string(),
  stage: v.string(),
  status: v.picklist(STEP_STATUSES),
  dependsOn: v.array(v.string()),
  maxRetries: v.pipe(v.number(), v.integer()),
  retryCount: v.pipe(v.number(), v.integer()),
  attempt: v.pipe(v.number(), v.integer()),
  env: v.pipe(v.record(v.string(), v.string()), v.description('secret-looking values read ***')),
  timeoutSeconds: v.nullable(v.pipe(v.number(), v.integer())),
  exitCode: v.nullable(v.pipe(v.number(), v.integer())),
  stdout: MaybeText,
  stderr: MaybeText,
  fields: JsonObject,
  error: JsonValue,
  terminationReason: MaybeText,
  workerId: MaybeText,
  createdAt: Millis,
  startedAt: MaybeMillis,
  completedAt: MaybeMillis,
  heartbeatAt: MaybeMillis,
  waitingFor: v.optional(v.nullable(WaitingForAnswer)),
  lostAttempts: v.optional(Count),
  retryDelaySeconds: v.optional(v.number()),
  retryBackoff: v.optional(v.picklist(['fixed', 'exponential'])),
  attempts: v.optional(
    v.pipe(v.array(AttemptAnswer), v.description('every finished attempt, oldest first (one step only)')),
  ),
})

export const FlowCallAnswer = v.object({
  id: v.pipe(v.number(), v.integer()),
  runId: v.string(),
  flowName: v.string(),
  completedStage: MaybeText,
  failedStage: MaybeText,
  status: v.picklist(FLOW_CALL_STATUSES),
  attempt: v.pipe(v.number(), v.integer()),
  exitCode: v.nullable(v.pipe(v.number(), v.integer())),
  stdout: MaybeText,
  stderr: MaybeText,
  terminationReason: v.pipe(
    MaybeText,
    v.description(
      'why the call ended other than by its own exit: run_ended (still running MAXQ_ABORT_GRACE_MS after its run completed, so terminated), lease_expired, worker_stopped, or its run failing (aborted…)',
    ),
  ),
  createdAt: Millis,
  startedAt: MaybeMillis,
  completedAt: MaybeMillis,
  lostAttempts: v.optional(Count),
  attempts: v.optional(v.array(AttemptAnswer)),
})

export const LogEntryAnswer = v.object({
  id: v.pipe(v.string(), v.description('a sequence number, as a string')),
  runId: v.string(),
  entityType: v.picklist(LOG_ENTITY_TYPES),
  entityId: MaybeText,
  level: v.picklist(LOG_LEVELS),
  message: v.string(),
  metadata: JsonValue,
  createdAt: Millis,
})

export const FieldsRowAnswer = v.object({
  stepId: v.string(),
  stepName: v.string(),
  stageName: v.string(),
  status: v.picklist(STEP_STATUSES),
  fields: JsonObject,
  completedAt: MaybeMillis,
})

const ScriptProblemAnswer = v.object({ kind: v.string(), reason: v.string() })

export const FlowAnswer = v.object({
  name: v.string(),
  path: v.pipe(v.string(), v.description('relative to FLOWS_ROOT')),
  steps: v.array(v.string()),
  usable: v.boolean(),
  problem: v.nullable(ScriptProblemAnswer),
  problems: v.array(v.object({ ...ScriptProblemAnswer.entries, step: v.optional(v.string()) })),
  schedules: v.array(
    v.object({
      index: v.pipe(v.number(), v.integer()),
      cron: v.string(),
      timezone: MaybeText,
      input: JsonValue,
      overlap: v.picklist(['skip', 'allow']),
      catchUp: v.picklist(['latest', 'none', 'all']),
      enabled: v.boolean(),
      nextSlotAt: MaybeMillis,
    }),
  ),
})

export const PaginationAnswer = v.object({
  total: v.pipe(v.number(), v.integer()),
  limit: v.pipe(v.number(), v.integer()),
  offset: v.pipe(v.number(), v.integer()),
})

export const HealthAnswer = v.object({
  status: v.literal('ok'),
  database: v.literal('ok'),
  workers: v.object({
    live: v.pipe(v.number(), v.integer()),
    running: v.pipe(v.number(), v.integer()),
    limit: v.pipe(v.number(), v.integer()),
    list: v.array(
      v.object({
        id: v.optional(v.pipe(v.string(), v.description('shown to the API token only, as host and pid are'))),
        host: v.optional(v.string()),
        pid: v.optional(v.pipe(v.number(), v.integer())),
        kind: v.picklist(WORKER_KINDS),
        startedAt: Millis,
        seenAt: Millis,
        running: v.pipe(v.number(), v.integer()),
        limit: v.pipe(v.number(), v.integer()),
      }),
    ),
  }),
})

/** GET /health's 503: the error body with the liveness keys beside it. */
export const HealthDownAnswer = v.object({
  ...ErrorAnswer.entries,
  status: v.literal('error'),
  database: v.literal('error'),
})
