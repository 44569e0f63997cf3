// Every route of the API as the OpenAPI document tells it: its path in Hono's spelling, the same
// valibot schemas its handler validates with (params, query, body), what it answers, and which
// error codes each status carries beyond the ones every route shares (build-document.ts adds those).
// test/handlers/openapi.test.ts compares this list with the routes createApp registers, so a route
// added without an entry here fails a test.

import * as v from 'valibot'
import type { ApiErrorCode } from '../errors.js'
import {
  FieldsRowAnswer,
  FlowAnswer,
  FlowCallAnswer,
  HealthAnswer,
  HealthDownAnswer,
  LogEntryAnswer,
  Millis,
  PaginationAnswer,
  RunAnswer,
  RunWithStagesAnswer,
  StepAnswer,
} from '../answer-schemas.js'
import { FlowParams, JsonObject, RunParams, RunStepParams } from '../shared-schemas.js'
import { PostFieldsBody } from '../fields/post-fields.js'
import { QueryFieldsQuery } from '../fields/query-fields.js'
import { HeartbeatBody } from '../leases/heartbeat.js'
import { ReportExitBody } from '../leases/report-exit.js'
import { EventsQuery } from '../events/run-events.js'
import { CreateLogBody } from '../logs/create-log.js'
import { ListLogsQuery } from '../logs/list-logs.js'
import { CreateRunBody } from '../runs/create-run.js'
import { ListRunsQuery } from '../runs/list-runs.js'
import { PruneRunsBody } from '../runs/prune-runs.js'
import { TriggerRunBody } from '../runs/trigger-run.js'
import { UpdateRunBody } from '../runs/update-run.js'
import { ListStepsQuery } from '../steps/list-steps.js'
import { ScheduleStageBody } from '../steps/stage-definition.js'

type Schema = v.GenericSchema
type ObjectSchema =
  v.ObjectSchema<v.ObjectEntries, undefined> | v.StrictObjectSchema<v.ObjectEntries, undefined>

/**
 * Who may call when MAXQ_API_TOKEN is set: anyone (`open`), the API token (`operator`), or also
 * the run's own MAXQ_TOKEN (`run`). Without MAXQ_API_TOKEN anyone may call every route.
 */
export type Access = 'open' | 'operator' | 'run'

export type Answer =
  | { status: 200 | 201; json: Schema; description: string }
  | { status: 200; text: 'text/plain' | 'text/event-stream'; description: string }

export interface RouteDoc {
  method: 'get' | 'post' | 'patch' | 'delete'
  /** As registered with Hono: `/api/v1/runs/:runId`. */
  path: string
  summary: string
  tag: 'health' | 'flows' | 'runs' | 'steps' | 'fields' | 'logs' | 'leases' | 'events' | 'meta'
  access: Access
  params?: ObjectSchema
  query?: v.GenericSchema<unknown, object>
  body?: v.GenericSchema<unknown, object>
  answer: Answer
  /** Route-specific errors; build-document.ts adds 400/401/403/413/415/500 as they apply. */
  errors?: Partial<Record<400 | 401 | 403 | 404 | 409 | 503, ApiErrorCode[]>>
  /** A body other than `{error, code, details}` for one status (GET /health's 503). */
  errorAnswers?: Partial<Record<503, Schema>>
}

const Count = v.pipe(v.number(), v.integer(), v.minValue(0))

const json = (description: string, schema: Schema, status: 200 | 201 = 200): Answer => ({
  status,
  json: schema,
  description,
})

const health = (path: string): RouteDoc => ({
  method: 'get',
  path,
  summary: 'Liveness, database reachability and the live workers',
  tag: 'health',
  access: 'open',
  answer: json('The process is up and the database answers', HealthAnswer),
  errors: { 503: ['DATABASE_UNAVAILABLE'] },
  errorAnswers: { 503: HealthDownAnswer },
})

const RUN_ACTIONS_404: RouteDoc['errors'] = { 404: ['RUN_NOT_FOUND'] }

export const ROUTES: RouteDoc[] = [
  health('/health'),
  health('/api/v1/health'),
  {
    method: 'get',
    path: '/api/v1/openapi.json',
    summary: 'This document',
    tag: 'meta',
    access: 'open',
    answer: json('The OpenAPI 3.1 document', v.looseObject({ openapi: v.string() })),
  },
  {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics (open when MAXQ_METRICS_PUBLIC=1)',
    tag: 'meta',
    access: 'operator',
    answer: { status: 200, text: 'text/plain', description: 'Prometheus text exposition format 0.0.4' },
  },
  {
    method: 'get',
    path: '/api/v1/flows',
    summary: 'Every flow under FLOWS_ROOT, usable or not, with its schedules',
    tag: 'flows',
    access: 'operator',
    answer: json('The flows', v.object({ flows: v.array(FlowAnswer) })),
  },
  {
    method: 'get',
    path: '/api/v1/flows/:flowName',
    summary: 'One flow',
    tag: 'flows',
    access: 'operator',
    params: FlowParams,
    answer: json('The flow; `usable: false` says why it cannot run', FlowAnswer),
    errors: { 404: ['FLOW_NOT_FOUND'] },
  },
  {
    method: 'post',
    path: '/api/v1/flows/:flowName/runs',
    summary: 'Trigger a run of a flow',
    tag: 'runs',
    access: 'operator',
    params: FlowParams,
    body: TriggerRunBody,
    answer: json('The new run (pending)', RunAnswer, 201),
    errors: { 400: ['FLOW_NOT_USABLE'], 404: ['FLOW_NOT_FOUND'] },
  },
  {
    method: 'post',
    path: '/api/v1/runs',
    summary: 'Trigger a run, the flow named in the body',
    tag: 'runs',
    access: 'operator',
    body: CreateRunBody,
    answer: json('The new run (pending)', RunAnswer, 201),
    errors: { 400: ['FLOW_NOT_USABLE'], 404: ['FLOW_NOT_FOUND'] },
  },
  {
    method: 'post',
    path: '/api/v1/runs/prune',
    summary: 'Delete (or list, dryRun) one batch of the oldest finished runs',
    tag: 'runs',
    access: 'operator',
    body: PruneRunsBody,
    answer: json(
      'What was deleted; call again until `deleted` is 0',
      v.object({
        deleted: Count,
        runIds: v.array(v.string()),
        matched: Count,
        dryRun: v.boolean(),
        finishedBefore: Millis,
      }),
    ),
  },
  {
    method: 'get',
    path: '/api/v1/runs',
    summary: 'Runs, filtered and paged',
    tag: 'runs',
    access: 'operator',
    query: ListRunsQuery,
    answer: json('One page of runs', v.object({ runs: v.array(RunAnswer), pagination: PaginationAnswer })),
  },
  {
    method: 'get',
    path: '/api/v1/runs/:runId',
    summary: 'One run with its stages, and why it waits',
    tag: 'runs',
    access: 'run',
    params: RunParams,
    answer: json('The run', RunWithStagesAnswer),
    errors: RUN_ACTIONS_404,
  },
  {
    method: 'patch',
    path: '/api/v1/runs/:runId',
    summary: "Set a run's display name, description or output",
    tag: 'runs',
    access: 'run',
    params: RunParams,
    body: UpdateRunBody,
    answer: json('The run', RunAnswer),
    errors: RUN_ACTIONS_404,
  },
  {
    method: 'delete',
    path: '/api/v1/runs/:runId',
    summary: 'Delete a finished run and everything of it',
    tag: 'runs',
    access: 'operator',
    params: RunParams,
    answer: json('Deleted', v.object({ deleted: v.literal(true), id: v.string() })),
    errors: { 404: ['RUN_NOT_FOUND'], 409: ['RUN_NOT_FINISHED'] },
  },
  {
    method: 'post',
    path: '/api/v1/runs/:runId/abort',
    summary: "Fail the run's open work and terminate its processes (idempotent)",
    tag: 'runs',
    access: 'run',
    params: RunParams,
    answer: json(
      'What the abort did',
      v.object({ message: v.string(), processesKilled: Count, alreadyCompleted: v.boolean() }),
    ),
    errors: RUN_ACTIONS_404,
  },
  {
    method: 'post',
    path: '/api/v1/runs/:runId/retry',
    summary: 'Put a failed run back to work, keeping its completed steps',
    tag: 'runs',
    access: 'run',
    params: RunParams,
    answer: json('The run as the reset left it', v.object({ run: RunWithStagesAnswer, message: v.string() })),
    errors: { 400: ['RUN_COMPLETED'], 404: ['RUN_NOT_FOUND'], 409: ['RUN_STILL_RUNNING'] },
  },
  {
    method: 'post',
    path: '/api/v1/runs/:runId/pause',
    summary: "Stop claiming the run's work",
    tag: 'runs',
    access: 'run',
    params: RunParams,
    answer: json('The run', RunAnswer),
    errors: { 404: ['RUN_NOT_FOUND'], 409: ['INVALID_STATE'] },
  },
  {
    method: 'post',
    path: '/api/v1/runs/:runId/resume',
    summary: "Claim the run's work again",
    tag: 'runs',
    access: 'run',
    params: RunParams,
    answer: json('The run', RunAnswer),
    errors: { 404: ['RUN_NOT_FOUND'], 409: ['INVALID_STATE'] },
  },
  {
    method: 'post',
    path: '/api/v1/runs/:runId/steps',
    summary: 'Schedule a stage (what flow.sh does)',
    tag: 'steps',
    access: 'run',
    params: RunParams,
    body: ScheduleStageBody,
    answer: json(
      'The stage and its steps',
      v.object({
        stage: v.string(),
        scheduled: Count,
        steps: v.array(v.object({ id: v.string(), name: v.string(), status: StepAnswer.entries.status })),
      }),
      201,
    ),
    errors: {
      400: [
        'INVALID_STEP_ID',
        'INVALID_STEP_NAME',
        'DUPLICATE_STEP_ID',
        'STEP_NOT_FOUND',
        'UNKNOWN_DEPENDENCY',
        'DEPENDENCY_CYCLE',
      ],
      404: ['RUN_NOT_FOUND'],
      409: ['STAGE_CONFLICT', 'RUN_NOT_ACTIVE'],
    },
  },
  {
    method: 'get',
    path: '/api/v1/runs/:runId/steps',
    summary: "The run's steps, filtered and paged",
    tag: 'steps',
    access: 'run',
    params: RunParams,
    query: ListStepsQuery,
    answer: json('One page of steps', v.object({ steps: v.array(StepAnswer), pagination: PaginationAnswer })),
    errors: RUN_ACTIONS_404,
  },
  {
    method: 'get',
    path: '/api/v1/runs/:runId/flow-calls',
    summary: 'Every flow.sh call of the run',
    tag: 'runs',
    access: 'run',
    params: RunParams,
    answer: json('The flow calls, oldest first', v.object({ flowCalls: v.array(FlowCallAnswer) })),
    errors: RUN_ACTIONS_404,
  },
  {
    method: 'get',
    path: '/api/v1/runs/:runId/steps/:stepId',
    summary: 'One step',
    tag: 'steps',
    access: 'run',
    params: RunStepParams,
    answer: json('The step', StepAnswer),
    errors: { 404: ['RUN_NOT_FOUND', 'STEP_NOT_FOUND'] },
  },
  {
    method: 'post',
    path: '/api/v1/runs/:runId/steps/:stepId/retry',
    summary: 'Put one failed step back to pending',
    tag: 'steps',
    access: 'run',
    params: RunStepParams,
    answer: json('The step', StepAnswer),
    errors: {
      400: ['STEP_NOT_FOUND'],
      404: ['RUN_NOT_FOUND'],
      409: ['STEP_NOT_FAILED', 'INVALID_STATE'],
    },
  },
  {
    method: 'post',
    path: '/api/v1/runs/:runId/steps/:stepId/fields',
    summary: "Merge fields into the step's fields",
    tag: 'fields',
    access: 'run',
    params: RunStepParams,
    body: PostFieldsBody,
    answer: json(
      "The step's fields after the merge",
      v.object({
        id: v.string(),
        stepId: v.string(),
        runId: v.string(),
        fields: JsonObject,
        completedAt: v.nullable(Millis),
      }),
    ),
    errors: { 400: ['STEP_NOT_FOUND'], 404: ['RUN_NOT_FOUND'] },
  },
  {
    method: 'get',
    path: '/api/v1/runs/:runId/fields',
    summary: 'What steps posted',
    tag: 'fields',
    access: 'run',
    params: RunParams,
    query: QueryFieldsQuery,
    answer: json('One row per matching step', v.object({ fields: v.array(FieldsRowAnswer) })),
    errors: RUN_ACTIONS_404,
  },
  {
    method: 'post',
    path: '/api/v1/runs/:runId/logs',
    summary: 'Write a log entry on the run',
    tag: 'logs',
    access: 'run',
    params: RunParams,
    body: CreateLogBody,
    answer: json('The entry', LogEntryAnswer, 201),
    errors: RUN_ACTIONS_404,
  },
  {
    method: 'get',
    path: '/api/v1/runs/:runId/logs',
    summary: "The run's log entries, newest first",
    tag: 'logs',
    access: 'run',
    params: RunParams,
    query: ListLogsQuery,
    answer: json('The entries', v.object({ logs: v.array(LogEntryAnswer) })),
    errors: RUN_ACTIONS_404,
  },
  {
    method: 'get',
    path: '/api/v1/runs/:runId/events',
    summary: "The run's state changes as server-sent events, from its whole state (Last-Event-ID resumes)",
    tag: 'events',
    access: 'run',
    params: RunParams,
    query: EventsQuery,
    answer: { status: 200, text: 'text/event-stream', description: 'run, stage, step and flow-call events' },
    errors: RUN_ACTIONS_404,
  },
  {
    method: 'get',
    path: '/api/v1/events',
    summary: "Every run's state changes as server-sent events (Last-Event-ID resumes)",
    tag: 'events',
    access: 'operator',
    query: EventsQuery,
    answer: { status: 200, text: 'text/event-stream', description: 'run, stage, step and flow-call events' },
  },
  {
    method: 'post',
    path: '/api/v1/leases/exit',
    summary: '(internal) A supervisor reports how an attempt ended',
    tag: 'leases',
    access: 'operator',
    body: ReportExitBody,
    answer: json(
      'False for a stale or repeated report, which changed nothing',
      v.object({ accepted: v.boolean() }),
    ),
  },
  {
    method: 'post',
    path: '/api/v1/leases/heartbeat',
    summary: '(internal) A supervisor renews its leases',
    tag: 'leases',
    access: 'operator',
    body: HeartbeatBody,
    answer: json('The leases no longer live', v.object({ lost: v.array(v.string()) })),
  },
]
