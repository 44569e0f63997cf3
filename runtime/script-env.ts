// The complete environment of a flow or step process. A script gets a minimal
// environment, never the server's: the few variables every Unix tool expects (PATH, HOME, locale,
// TZ, user, TMPDIR), the names the operator lists in MAXQ_PASSTHROUGH_ENV, the variables of the
// contract with its run token, and the step's own env. Cloud keys, database URLs and the API token
// in the server's environment never reach a script, nor does anything that changes how bash or the
// loader start it (the API refuses such step env; it is dropped here again in case a row holds one).

import path from 'node:path'
import { packageRoot } from './package-root.js'
import { forbiddenEnvName } from '../security/step-env-names.js'

export type BaseEnv = Record<string, string | undefined>

export interface FlowEnvOptions {
  /** What every script gets of the server's environment: scriptBaseEnv(). */
  base: BaseEnv
  /** MAXQ_TOKEN: the run's token (security/run-token.ts). */
  token: string
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
  token: string
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

/** Names every script gets from the server's environment, when set there. */
const BASE_NAMES = ['PATH', 'HOME', 'LANG', 'TZ', 'USER', 'LOGNAME', 'TMPDIR']
/** A script needs a PATH to find bash, curl and jq even when the server was started without one. */
const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin'

/**
 * What scripts get of the server's environment (`server`, usually process.env): the base names,
 * `LC_*`, and the `passthrough` names the operator chose. Taken once when a worker starts: every
 * read of `process.env` goes through a native interceptor, and copying it for each job was 4% of
 * the server's CPU in a fan-out profile.
 */
export function scriptBaseEnv(server: BaseEnv, passthrough: readonly string[] = []): BaseEnv {
  const env: BaseEnv = { PATH: DEFAULT_PATH }
  for (const [name, value] of Object.entries(server)) {
    if (value === undefined || name.startsWith('MAXQ_')) continue
    if (BASE_NAMES.includes(name) || name.startsWith('LC_') || passthrough.includes(name)) env[name] = value
  }
  return env
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
  env.MAXQ_TOKEN = opts.token
  return env
}

export function stepEnv(opts: StepEnvOptions): Record<string, string> {
  const env = inherited(opts.base)
  for (const [key, value] of Object.entries(opts.stepEnv)) {
    if (forbiddenEnvName(key) !== null || !isPortableEnvEntry(key, value)) continue
    env[key] = value
  }
  env.MAXQ_RUN_ID = opts.runId
  env.MAXQ_STEP_ID = opts.stepId
  env.MAXQ_STEP_NAME = opts.stepName
  env.MAXQ_FLOW_NAME = opts.flowName
  env.MAXQ_STAGE = opts.stage
  env.MAXQ_API = opts.apiBase
  env.MAXQ_LIB = opts.lib ?? maxqLibPath()
  env.MAXQ_TOKEN = opts.token
  return env
}

/** The base without any MAXQ_* variable (a base not made by scriptBaseEnv may carry some). */
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
