// Claimed rows become process jobs: the script, its cwd, its complete environment with the run's
// token, and the values its captured output must not show.

import { scriptPaths } from '../catalog/script-paths.js'
import type { ClaimedFlowCall, ClaimedStep, ClaimedWork } from '../db/store.js'
import type { ProcessJob } from '../runtime/process-job.js'
import { flowEnv, stepEnv, type BaseEnv } from '../runtime/script-env.js'
import type { RunTokens } from '../security/run-token.js'
import { secretValues } from '../security/secret-names.js'

export interface JobContext {
  flowsRoot: string
  /** What scripts get as MAXQ_API. */
  apiBase: string
  /** What scripts get of the server's environment (runtime/script-env.ts scriptBaseEnv). */
  baseEnv: BaseEnv
  /** Makes each script's MAXQ_TOKEN. */
  tokens: RunTokens
}

export function flowCallJob(ctx: JobContext, call: ClaimedFlowCall): ProcessJob {
  const token = ctx.tokens.issue(call.runId)
  return {
    lease: call.lease,
    ...scriptPaths(ctx.flowsRoot, call.flowName),
    env: flowEnv({
      base: ctx.baseEnv,
      token,
      apiBase: ctx.apiBase,
      runId: call.runId,
      flowName: call.flowName,
      completedStage: call.completedStage,
      failedStage: call.failedStage,
    }),
    timeoutSeconds: null,
    secrets: [token],
  }
}

export function stepJob(ctx: JobContext, step: ClaimedStep): ProcessJob {
  const token = ctx.tokens.issue(step.runId)
  return {
    lease: step.lease,
    ...scriptPaths(ctx.flowsRoot, step.flowName, step.stepName),
    env: stepEnv({
      base: ctx.baseEnv,
      token,
      apiBase: ctx.apiBase,
      runId: step.runId,
      flowName: step.flowName,
      stepId: step.stepId,
      stepName: step.stepName,
      stage: step.stage,
      stepEnv: step.env,
    }),
    timeoutSeconds: step.timeoutSeconds,
    secrets: [token, ...secretValues(step.env)],
  }
}

/** A claim's jobs: flow calls first, then steps. */
export function jobsFor(ctx: JobContext, work: ClaimedWork): ProcessJob[] {
  return [
    ...work.flowCalls.map((call) => flowCallJob(ctx, call)),
    ...work.steps.map((step) => stepJob(ctx, step)),
  ]
}
