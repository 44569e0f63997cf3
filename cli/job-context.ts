import type { Store } from '../db/store.js'
import { scriptBaseEnv } from '../runtime/script-env.js'
import type { JobContext } from '../scheduler/build-jobs.js'
import { runTokens } from '../security/run-token.js'
import type { Config } from './config.js'

/** What a worker needs to turn claims into jobs, read once at its start. */
export async function jobContext(config: Config, store: Store): Promise<JobContext> {
  return {
    flowsRoot: config.flowsRoot,
    apiBase: config.apiBase,
    baseEnv: scriptBaseEnv(process.env, config.passthroughEnv),
    tokens: runTokens(await store.runTokenKey()),
  }
}
