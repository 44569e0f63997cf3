// Claimed rows become process jobs: the script, its cwd and its complete environment.

import type { ClaimedFlowCall, ClaimedStep, ClaimedWork } from '../db/store.js'
import type { ProcessJob } from '../runtime/process-job.js'
import { flowEnv, scriptPaths, stepEnv, type BaseEnv } from '../runtime/script-env.js'

export interface JobContext {
  flowsRoot: string
  /** What scripts get as MAXQ_API. */
  apiBase: string
  /** The environment scripts inherit (MaxQ's own variables are removed from it). */
  baseEnv: BaseEnv
}

export function flowCallJob(ctx: JobContext, call: ClaimedFlowCall): ProcessJob {
  return {
    lease: call.lease,
    ...scriptPaths(ctx.flowsRoot, call.flowName),
    env: flowEnv({
      base: ctx.baseEnv,
      apiBase: ctx.apiBase,
      runId: call.runId,
      flowName: call.flowName,
      completedStage: call.completedStage,
      failedStage: call.failedStage,
    }),
    timeoutSeconds: null,
  }
}

export function stepJob(ctx: JobContext, step: ClaimedStep): ProcessJob {
  return {
    lease: step.lease,
    ...scriptPaths(ctx.flowsRoot, step.flowName, step.stepName),
    env: stepEnv({
      base: ctx.baseEnv,
      apiBase: ctx.apiBase,
      runId: step.runId,
      flowName: step.flowName,
      stepId: step.stepId,
      stepName: step.stepName,
      stage: step.stage,
      stepEnv: step.env,
    }),
    timeoutSeconds: step.timeoutSeconds,
  }
}

/** A claim's jobs: flow calls first, then steps. */
export function jobsFor(ctx: JobContext, work: ClaimedWork): ProcessJob[] {
  return [
    ...work.flowCalls.map((call) => flowCallJob(ctx, call)),
    ...work.steps.map((step) => stepJob(ctx, step)),
  ]
}
