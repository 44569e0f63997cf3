// The Store is the seam between HTTP/scheduler code and a database dialect. Everything the
// handlers and the worker do to state is one call here, and each call is one transaction (or one
// statement atomic on its own). ApiStore is what handlers/ gets, WorkerStore what scheduler/ gets.

import type { PruneOutcome, PruneQuery } from './queries/delete-runs.js'
import type { WorkFound } from './queries/find-work.js'
import type { Changes, ChangeScope } from './queries/read-changes.js'
import type { MetricsCounts } from './queries/read-metrics.js'
import type { Refusal } from './queries/record-refusal.js'
import type { LastSlot, ScheduledRunRequest, ScheduleSlot, SlotDecision } from './queries/schedule-slots.js'
import type { ParsedLease } from './rules/lease-key.js'
import type { RetryBackoff } from './rules/decide-attempt.js'
import type {
  FieldsRow,
  Fields,
  FlowCall,
  Json,
  LogEntry,
  LogLevel,
  Outcome,
  Run,
  RunStatus,
  RunWithStages,
  Step,
  StepStatus,
  WorkerRecord,
} from './types.js'

export type { PruneOutcome, PruneQuery } from './queries/delete-runs.js'
export type { Change, Changes, ChangeScope } from './queries/read-changes.js'
export type { MetricsCounts } from './queries/read-metrics.js'
export type { Refusal } from './queries/record-refusal.js'
export type { LastSlot, ScheduledRunRequest, ScheduleSlot, SlotDecision } from './queries/schedule-slots.js'

export interface NewRun {
  flowName: string
  input?: Json
  metadata?: Json
}

export interface RunListQuery {
  flowName?: string
  status?: RunStatus
  limit: number
  offset: number
  sortBy: 'createdAt' | 'startedAt' | 'completedAt' | 'status' | 'flowName'
  sortOrder: 'asc' | 'desc'
}

export interface RunPatch {
  name?: string | null
  description?: string | null
  output?: Json
}

export interface StepDefinition {
  id: string
  name: string
  dependsOn?: string[]
  maxRetries?: number
  env?: Record<string, string>
  timeoutSeconds?: number
  /** Unset: 0 (the API fills in MAXQ_RETRY_DELAY_SECONDS). */
  retryDelaySeconds?: number
  /** Unset: 'exponential' (the API fills in MAXQ_RETRY_BACKOFF). */
  retryBackoff?: RetryBackoff
}

export interface StageDefinition {
  stage: string
  final: boolean
  steps: StepDefinition[]
}

export interface ScheduledStep {
  id: string
  name: string
  status: StepStatus
}

export interface ScheduledStage {
  stage: string
  scheduled: number
  /** One per step of the stage, in the order they were posted. */
  steps: ScheduledStep[]
}

export interface PostedFields {
  stepId: string
  /** The step's fields after the merge. */
  fields: Fields
  /** When the step ended, null while it has not. */
  completedAt: number | null
}

export interface StepListQuery {
  stage?: string
  status?: StepStatus
  name?: string
  limit: number
  offset: number
  sortBy: 'createdAt' | 'startedAt' | 'completedAt' | 'status' | 'name'
  sortOrder: 'asc' | 'desc'
}

export interface AbortOutcome {
  message: string
  processesKilled: number
  alreadyCompleted: boolean
}

export interface NewLog {
  entityType?: string
  entityId?: string | null
  level: LogLevel
  message: string
  metadata?: Json
}

export interface LogQuery {
  entityType?: string
  entityId?: string
  level?: LogLevel
  limit: number
}

/**
 * A lease names one claimed attempt: `step/<runId>/<stepId>/<attempt>` or
 * `flow/<runId>/<callId>/<attempt>`. The attempt is the fencing token: a report for an older
 * attempt, or a second report for the same one, finds no running row to change.
 */
export type LeaseKey = string

export interface ClaimedStep {
  lease: LeaseKey
  runId: string
  flowName: string
  stepId: string
  stepName: string
  stage: string
  attempt: number
  env: Record<string, string>
  timeoutSeconds: number | null
}

export interface ClaimedFlowCall {
  lease: LeaseKey
  runId: string
  flowName: string
  callId: number
  attempt: number
  completedStage: string | null
  failedStage: string | null
}

export interface ExitReport {
  lease: LeaseKey
  exitCode: number | null
  /** Signal name when the process was killed by one. */
  signal?: string | null
  timedOut?: boolean
  stdout?: string
  stderr?: string
  startedAt?: number
}

export interface ExitOutcome {
  /** False when the lease was no longer live (stale or duplicate report): nothing changed. */
  accepted: boolean
  /** The end stopped other running work (a failed flow call failed its run): their leases are lost. */
  leasesRevoked: boolean
  /** What the report's own claim took (only when `recordExit` was given one). */
  claimed?: ClaimedWork
}

export interface ClaimLimits {
  workerId: string
  /** Most rows to claim in this call. */
  limit: number
}

export interface WorkClaim {
  workerId: string
  flowCallLimit: number
  stepLimit: number
}

export interface ClaimedWork {
  flowCalls: ClaimedFlowCall[]
  steps: ClaimedStep[]
}

/**
 * What the API calls: runs, stages, steps, fields and logs, and the supervisors' reports that come
 * in over HTTP (`/leases/exit`, `/leases/heartbeat`). A change that makes work commits a wake-up
 * (PostgreSQL NOTIFY; the handler wakes this process's worker) and nothing more: workers claim.
 */
export interface ApiStore {
  readonly dialect: 'sqlite' | 'postgres'

  // --- runs
  createRun(run: NewRun, now: number): Promise<Run>
  /** With `waitingFor` as of `now` (default: the wall clock); the same for the step reads. */
  getRun(runId: string, now?: number): Promise<RunWithStages | null>
  /** getRun's answer as JSON text, written by the database where it can (GET /runs/{run}). */
  getRunJson(runId: string, now?: number): Promise<string | null>
  /** The run's flow name (null: no such run), for checks that need nothing else of it; remembered. */
  getRunFlowName(runId: string): Promise<string | null>
  /**
   * Whether the run's token still works with MAXQ_API_TOKEN set: while the run has not ended, and
   * for the run-end grace (MAXQ_ABORT_GRACE_MS) after it ended, the time a flow call that outlives
   * its run may still take before it is terminated. False for no such run.
   */
  runTokenWorks(runId: string, now: number): Promise<boolean>
  listRuns(query: RunListQuery): Promise<{ runs: Run[]; total: number }>
  updateRun(runId: string, patch: RunPatch, now: number): Promise<Outcome<Run>>
  abortRun(runId: string, now: number): Promise<Outcome<AbortOutcome>>
  /**
   * Reset a failed run's unfinished work. Answers the run as the reset left it (status `pending`,
   * error, terminationReason and completedAt cleared), with its stages as of the commit.
   */
  retryRun(runId: string, now: number): Promise<Outcome<RunWithStages>>
  pauseRun(runId: string, now: number): Promise<Outcome<Run>>
  resumeRun(runId: string, now: number): Promise<Outcome<Run>>
  /** Deletes a completed or failed run and everything of it; `RUN_NOT_FINISHED` for an open one. */
  deleteRun(runId: string): Promise<Outcome<{ id: string }>>
  /** Deletes (or with dryRun lists) one batch of the oldest matching finished runs; answers their ids. */
  pruneRuns(query: PruneQuery): Promise<PruneOutcome>

  // --- stages and steps
  scheduleStage(runId: string, stage: StageDefinition, now: number): Promise<Outcome<ScheduledStage>>
  listSteps(runId: string, now?: number): Promise<Outcome<Step[]>>
  /** One page of the run's steps, filtered and sorted, with how many match in all. */
  listStepsPage(
    runId: string,
    query: StepListQuery,
    now?: number,
  ): Promise<Outcome<{ steps: Step[]; total: number }>>
  getStep(runId: string, stepId: string, now?: number): Promise<Outcome<Step>>
  retryStep(runId: string, stepId: string, now: number): Promise<Outcome<Step>>
  postFields(runId: string, stepId: string, fields: Fields, now: number): Promise<Outcome<PostedFields>>
  queryFields(runId: string, query: { stepIds?: string[]; fieldName?: string }): Promise<Outcome<FieldsRow[]>>
  listFlowCalls(runId: string): Promise<Outcome<FlowCall[]>>

  // --- logs
  /** A 4xx answered to the run's own script: logged at warn, and kept on a running flow call. */
  recordRefusal(runId: string, refusal: Refusal, now: number): Promise<boolean>
  appendLog(runId: string, log: NewLog, now: number): Promise<Outcome<LogEntry>>
  listLogs(runId: string, query: LogQuery): Promise<Outcome<LogEntry[]>>

  // --- a detached supervisor's reports, over HTTP
  recordExit(report: ExitReport, now: number): Promise<ExitOutcome>
  heartbeat(workerId: string, leases: LeaseKey[], now: number): Promise<{ lost: LeaseKey[] }>

  /** The installation's key for run tokens (security/run-token.ts), made on first use. */
  runTokenKey(): Promise<string>
  ping(): Promise<void>
  /** Workers seen within WORKER_LIVE_HEARTBEATS of their own heartbeat interval (GET /health). */
  listLiveWorkers(now: number): Promise<WorkerRecord[]>
  /** Counts for GET /metrics (db/queries/read-metrics.ts); run durations of runs finished since `since`. */
  readMetrics(now: number, since: number): Promise<MetricsCounts>

  // --- the event stream (docs/events.md)
  /** States of the scope's runs, stages, steps and flow calls changed at or after `since`. */
  readChanges(scope: ChangeScope, since: number): Promise<Changes>
  /** A run's status and last change (null: no such run). */
  readRunHead(runId: string): Promise<{ status: RunStatus; updatedAt: number } | null>
  /** Wake-ups from other processes (PostgreSQL LISTEN/NOTIFY); never fires on SQLite. */
  subscribe(onEvent: (event: 'work' | 'abort') => void): Promise<() => Promise<void>>
}

/** What a worker (scheduler/worker.ts) calls: claims, its supervisor's reports, its leases. */
export interface WorkerStore {
  readonly dialect: 'sqlite' | 'postgres'

  /**
   * Reaps as lost the attempts whose lease has not been renewed within leaseMs: re-queued without
   * spending a retry, up to maxLostAttempts (default DEFAULT_MAX_LOST_ATTEMPTS) lost attempts each.
   */
  reapExpiredLeases(now: number, leaseMs: number, maxLostAttempts?: number): Promise<number>
  /** Reaps these attempts as lost now, whatever their heartbeat (their supervisor is known dead). */
  reapLostLeases(leases: readonly ParsedLease[], now: number, maxLostAttempts?: number): Promise<number>
  /** The attempts a worker holds (running rows with its id): a dead worker's, to reap them. */
  runningLeasesOf(workerId: string): Promise<ParsedLease[]>

  // --- flow.json schedules (db/queries/schedule-slots.ts)
  /** The newest decided slot of each schedule of these flows. */
  lastScheduleSlots(flowNames: readonly string[]): Promise<LastSlot[]>
  /** Records a schedule's first sighting when it has no slot yet; true when this call did. */
  markScheduleSeen(slot: ScheduleSlot, now: number): Promise<boolean>
  /** Decides one slot exactly once across all ticks: starts its run, skips it, or finds it taken. */
  startScheduledRun(request: ScheduledRunRequest, now: number): Promise<SlotDecision>
  claimFlowCalls(claim: ClaimLimits, now: number): Promise<ClaimedFlowCall[]>
  /** Both claims, side by side: what a tick does. */
  claimWork(claim: WorkClaim, now: number): Promise<ClaimedWork>
  claimReadySteps(claim: ClaimLimits, now: number): Promise<ClaimedStep[]>
  /**
   * Records an attempt's end; settles its stage, queues the flow callback and ends the run as due.
   * With `claim`, the worker fills the slots it has free (the end's among them) in the same
   * transaction, last, with its COMMIT: ready steps, and the run's callback when the end made it
   * claimable (a step's end that settled a stage, or the end of the flow call it waited for).
   */
  recordExit(report: ExitReport, now: number, claim?: WorkClaim): Promise<ExitOutcome>
  /** Renews the given leases; returns those no longer live (aborted, reaped) so their processes die. */
  heartbeat(workerId: string, leases: LeaseKey[], now: number): Promise<{ lost: LeaseKey[] }>
  /**
   * Gives claimed attempts back without counting them as failures (a worker shutting down
   * cleanly): steps become claimable again, flow calls queued again. Answers how many were given back.
   */
  releaseLeases(leases: LeaseKey[], now: number): Promise<number>
  countRunningSteps(): Promise<number>
  /** One cheap, index-only question: is anything claimable now, and is anything running? */
  findWork(now: number): Promise<WorkFound>
  /** The retention sweep: one batch of old finished runs, deleted. */
  pruneRuns(query: PruneQuery): Promise<PruneOutcome>
  /** Folds GET /runs's run-count changes when there are many; answers how many rows it folded. */
  foldRunCounts(): Promise<number>
  /** Wake-ups from other processes (PostgreSQL LISTEN/NOTIFY); never fires on SQLite. */
  subscribe(onEvent: (event: 'work' | 'abort') => void): Promise<() => Promise<void>>
  /** The worker says it is alive (its start, each heartbeat): one upsert of its `workers` row. */
  recordWorker(worker: WorkerRecord): Promise<void>
  /** A clean stop deletes the worker's row. */
  removeWorker(workerId: string): Promise<void>
  /** Deletes the rows of workers no longer live (died without a clean stop); answers how many. */
  deleteExpiredWorkers(now: number): Promise<number>
  /** The installation's key for run tokens (security/run-token.ts), made on first use. */
  runTokenKey(): Promise<string>
}

/** One database, opened by cli/ and handed to the API (as ApiStore) and the worker (as WorkerStore). */
export interface Store extends ApiStore, WorkerStore {
  readonly dialect: 'sqlite' | 'postgres'
  recordExit(report: ExitReport, now: number, claim?: WorkClaim): Promise<ExitOutcome>
  close(): Promise<void>
}
