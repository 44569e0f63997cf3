// The complete environment and location of a flow or step process. Scripts inherit the
// environment of the process that spawns them, minus MaxQ's own configuration (a database URL must
// never reach a script), plus the variables of the contract. A step's own env cannot override any
// MAXQ_* variable, so a flow cannot make a step post into another run.

import path from 'node:path'
import { packageRoot } from './package-root.js'
import { isSafeName } from './safe-name.js'

export type BaseEnv = Record<string, string | undefined>

export interface FlowEnvOptions {
  /** The parent environment, usually process.env. */
  base: BaseEnv
  /** What the script gets as MAXQ_API, e.g. http://127.0.0.1:3000/api/v1. */
  apiBase: string
  runId: string
  flowName: string
  /** Null (or empty) on the first call of a run. */
  completedStage: string | null
  /** Set only when the call follows a failed stage. */
  failedStage: string | null
  /** Path of the helper library; defaults to runtime/maxq.sh of this package. */
  lib?: string
}

export interface StepEnvOptions {
  base: BaseEnv
  apiBase: string
  runId: string
  flowName: string
  stepId: string
  stepName: string
  stage: string
  /** The step's own `env` from its definition. */
  stepEnv: Record<string, string>
  lib?: string
}

export interface ScriptPaths {
  command: string
  cwd: string
}

/**
 * The parent environment as a plain object, taken once when a worker starts: every read of
 * `process.env` goes through a native interceptor, and copying it key by key for each job was 4%
 * of the server's CPU in a fan-out profile.
 */
export function snapshotEnv(): BaseEnv {
  return { ...process.env }
}

/** Absolute path of runtime/maxq.sh, the shell helper library scripts source with `. "$MAXQ_LIB"`. */
export function maxqLibPath(): string {
  return path.join(packageRoot(), 'runtime', 'maxq.sh')
}

export function flowEnv(opts: FlowEnvOptions): Record<string, string> {
  const env = inherited(opts.base)
  env.MAXQ_RUN_ID = opts.runId
  env.MAXQ_FLOW_NAME = opts.flowName
  env.MAXQ_API = opts.apiBase
  env.MAXQ_COMPLETED_STAGE = opts.completedStage ?? ''
  if (opts.failedStage !== null && opts.failedStage !== '') env.MAXQ_FAILED_STAGE = opts.failedStage
  env.MAXQ_LIB = opts.lib ?? maxqLibPath()
  return env
}

export function stepEnv(opts: StepEnvOptions): Record<string, string> {
  const env = inherited(opts.base)
  for (const [key, value] of Object.entries(opts.stepEnv)) {
    if (key.startsWith('MAXQ_') || !isPortableEnvEntry(key, value)) continue
    env[key] = value
  }
  env.MAXQ_RUN_ID = opts.runId
  env.MAXQ_STEP_ID = opts.stepId
  env.MAXQ_STEP_NAME = opts.stepName
  env.MAXQ_FLOW_NAME = opts.flowName
  env.MAXQ_STAGE = opts.stage
  env.MAXQ_API = opts.apiBase
  env.MAXQ_LIB = opts.lib ?? maxqLibPath()
  return env
}

/** Command and cwd of a flow (no stepName) or a step. Throws on a name that could leave flowsRoot. */
export function scriptPaths(flowsRoot: string, flowName: string, stepName?: string): ScriptPaths {
  if (!isSafeName(flowName)) throw new RangeError(`unsafe flow name: ${JSON.stringify(flowName)}`)
  const flowDir = path.join(path.resolve(flowsRoot), flowName)
  if (stepName === undefined) return { command: path.join(flowDir, 'flow.sh'), cwd: flowDir }
  if (!isSafeName(stepName)) throw new RangeError(`unsafe step name: ${JSON.stringify(stepName)}`)
  const stepDir = path.join(flowDir, 'steps', stepName)
  return { command: path.join(stepDir, 'step.sh'), cwd: stepDir }
}

/** The parent's environment without any MAXQ_* variable (configuration, or a parent run's ids). */
function inherited(base: BaseEnv): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(base)) {
    if (value === undefined || key.startsWith('MAXQ_')) continue
    env[key] = value
  }
  return env
}

/** spawn() throws on a NUL byte, and `=` in a name cannot be represented in an environment. */
function isPortableEnvEntry(key: string, value: string): boolean {
  return key !== '' && !key.includes('=') && !key.includes('\0') && !value.includes('\0')
}
