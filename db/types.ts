// Row and outcome types shared by both dialects. Timestamps are epoch milliseconds.

export type RunStatus = 'pending' | 'running' | 'paused' | 'completed' | 'failed'
export type StageStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled'
export type StepStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled'
export type FlowCallStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled'
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

export const RUN_STATUSES: readonly RunStatus[] = ['pending', 'running', 'paused', 'completed', 'failed']
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error']
/** What a log entry is about; the API refuses anything else. */
export const LOG_ENTITY_TYPES = ['run', 'stage', 'step', 'flow'] as const
export type LogEntityType = (typeof LOG_ENTITY_TYPES)[number]
export const STEP_STATUSES: readonly StepStatus[] = ['pending', 'running', 'completed', 'failed', 'cancelled']

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
export type Fields = Record<string, Json>

export interface Run {
  id: string
  flowName: string
  status: RunStatus
  input: Json
  metadata: Json
  name: string | null
  description: string | null
  output: Json
  error: Json
  terminationReason: string | null
  createdAt: number
  startedAt: number | null
  completedAt: number | null
  updatedAt: number
}

export interface Stage {
  runId: string
  name: string
  seq: number
  final: boolean
  status: StageStatus
  createdAt: number
  startedAt: number | null
  completedAt: number | null
}

export interface RunWithStages extends Run {
  stages: Stage[]
  /** Why a pending or paused run is not running (db/queries/waiting-for.ts); null otherwise. */
  waitingFor?: WaitingFor | null
}

export interface Step {
  runId: string
  id: string
  name: string
  stage: string
  status: StepStatus
  dependsOn: string[]
  maxRetries: number
  /** Failed attempts counted against maxRetries. */
  retryCount: number
  /** Monotonic attempt number; also the fencing token of the current lease. */
  attempt: number
  env: Record<string, string>
  timeoutSeconds: number | null
  exitCode: number | null
  stdout: string | null
  stderr: string | null
  fields: Fields
  error: Json
  terminationReason: string | null
  workerId: string | null
  createdAt: number
  startedAt: number | null
  completedAt: number | null
  heartbeatAt: number | null
  /** Why a pending step is not running (db/queries/waiting-for.ts); null otherwise. Set on reads. */
  waitingFor?: WaitingFor | null
  /** Lost attempts (expired leases), re-queued without counting against maxRetries. */
  lostAttempts?: number
  /** Seconds before the first retry (0: at once); retryBackoff says how later ones grow. */
  retryDelaySeconds?: number
  retryBackoff?: 'fixed' | 'exponential'
  /** Every finished attempt, oldest first: set by GET /runs/{run}/steps/{step} only. */
  attempts?: Attempt[]
}

/** One finished attempt of a step or a flow call (the attempts table, migration 0011). */
export interface Attempt {
  attempt: number
  workerId: string | null
  startedAt: number | null
  endedAt: number
  exitCode: number | null
  signal: string | null
  /** exit (the script ended by itself), signal, timeout, or lease_expired (its supervisor died). */
  terminationReason: string
  /** The last ATTEMPT_TAIL_CHARS characters of its output, masked like the step's own. */
  stdoutTail: string | null
  stderrTail: string | null
}

export interface FieldsRow {
  stepId: string
  stepName: string
  stageName: string
  status: StepStatus
  fields: Fields
  completedAt: number | null
}

export interface LogEntry {
  /** A string on the wire, as in the original API (the column is a sequence number). */
  id: string
  runId: string
  entityType: string
  entityId: string | null
  level: LogLevel
  message: string
  metadata: Json
  createdAt: number
}

/** A flow.sh invocation, queued like a step so that it is neither lost nor doubled. */
export interface FlowCall {
  id: number
  runId: string
  flowName: string
  completedStage: string | null
  failedStage: string | null
  status: FlowCallStatus
  attempt: number
  exitCode: number | null
  stdout: string | null
  stderr: string | null
  /**
   * Why the call ended other than by its own exit: `run_ended` (still running MAXQ_ABORT_GRACE_MS
   * after its run completed, so terminated), `lease_expired` or `worker_stopped` (after its run
   * ended), or its run's own reason (`aborted`…). Null when its script's exit decided.
   */
  terminationReason: string | null
  createdAt: number
  startedAt: number | null
  completedAt: number | null
  /** Lost attempts (expired leases) that were queued again. */
  lostAttempts?: number
  /** Every finished attempt, oldest first (GET /runs/{run}/flow-calls). */
  attempts?: Attempt[]
}

/** Expected failures come back as values; the store throws only when something is broken. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; details?: Json }

export type ErrorCode =
  | 'RUN_NOT_FOUND'
  | 'STEP_NOT_FOUND'
  | 'FLOW_NOT_FOUND'
  | 'DUPLICATE_STEP_ID'
  | 'UNKNOWN_DEPENDENCY'
  | 'DEPENDENCY_CYCLE'
  | 'STAGE_CONFLICT'
  | 'RUN_NOT_ACTIVE'
  | 'RUN_COMPLETED'
  | 'RUN_STILL_RUNNING'
  | 'RUN_NOT_FINISHED'
  | 'STEP_NOT_FAILED'
  | 'INVALID_STATE'
  | 'LEASE_NOT_FOUND'

export const ok = <T>(value: T): Outcome<T> => ({ ok: true, value })
export const fail = <T>(code: ErrorCode, details?: Json): Outcome<T> => ({ ok: false, code, details })

/** Why a pending step or run is not running (GET /runs/{run}, /steps): computed when read. */
export type WaitingFor =
  | { reason: 'paused' }
  | { reason: 'dependencies'; steps: string[] }
  | { reason: 'earlier_stage'; stage: string }
  | { reason: 'retry_delay'; until: number }
  | { reason: 'no_worker' }
  /** Every live worker's slots are taken: `running` of `limit`, summed over them, as of their last beat. */
  | { reason: 'concurrency_limit'; running: number; limit: number }
  /** Ready, and a live worker has a free slot: the next claim takes it. */
  | { reason: 'queued' }

/** `tick-loop`: `maxq tick --watch`; `tick`: one `maxq tick`; `local-runner`: `maxq start`. */
export type WorkerKind = 'tick-loop' | 'tick' | 'local-runner'
export const WORKER_KINDS: readonly WorkerKind[] = ['tick-loop', 'tick', 'local-runner']

/** A worker's row in `workers`: what it last said about itself. */
export interface WorkerRecord {
  id: string
  host: string
  pid: number
  kind: WorkerKind
  startedAt: number
  seenAt: number
  /** Steps it was running when seen, and its MAXQ_MAX_CONCURRENT_STEPS. */
  running: number
  limit: number
  /** How often it says it is alive; it is live while seen within 3× that (WORKER_LIVE_HEARTBEATS). */
  heartbeatMs: number
}

/** A worker not seen within this many of its own heartbeat intervals is dead. */
export const WORKER_LIVE_HEARTBEATS = 3
