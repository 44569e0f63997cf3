// Who is calling. With MAXQ_API_TOKEN set, every route but /health and /api/v1/openapi.json (and
// /metrics with MAXQ_METRICS_PUBLIC=1) needs `Authorization: Bearer <token>`: the API token (an
// operator, the CLI, a supervisor) may do anything, a run token (the MAXQ_TOKEN of a flow or step
// process) only touches its own run, and only until MAXQ_ABORT_GRACE_MS after the run ended.
// Without MAXQ_API_TOKEN anyone may call, but a request that presents a run token is still held to
// that run: a script cannot reach into another run by mistake, and its refusals can be told apart.
// Runs before any body is read, so a refused request changes nothing.

import type { MiddlewareHandler } from 'hono'
import { isRunToken, sameSecret, type RunTokens } from '../../security/run-token.js'
import type { AppEnv, Caller } from '../app-env.js'
import { ApiError } from '../errors.js'

export interface AuthOptions {
  /** MAXQ_API_TOKEN; undefined leaves the API open. */
  apiToken: string | undefined
  /** MAXQ_METRICS_PUBLIC: GET /metrics needs no token. */
  metricsPublic: boolean
  /** Checks run tokens; made once from the store's key. */
  runTokens: () => Promise<RunTokens>
}

// The OpenAPI document describes routes, not data (docs/observability.md).
const OPEN_PATHS = new Set(['/health', '/api/v1/health', '/api/v1/openapi.json'])
const RUN_PATH = /^\/api\/v1\/runs\/([^/]+)(?:\/|$)/
/** The dashboard: a browser sends no bearer token; the dashboard's own login guards it (handlers/ui/). */
const DASHBOARD_PATH = /^\/(?:ui(?:\/.*)?)?$/

const unauthorized = (reason: string, message: string): ApiError =>
  new ApiError(401, 'UNAUTHORIZED', message, { reason })

export function authenticate(options: AuthOptions): MiddlewareHandler<AppEnv> {
  const required = options.apiToken !== undefined
  return async (c, next) => {
    c.set('apiTokenRequired', required)
    if (DASHBOARD_PATH.test(c.req.path)) {
      // handlers/ui/ checks its session cookie, then calls the API with the token: nothing is read
      // or changed here without it.
      c.set('caller', { kind: 'anonymous' })
      return next()
    }
    if (OPEN_PATHS.has(c.req.path) || (options.metricsPublic && c.req.path === '/metrics')) {
      // Open to anyone; a valid API token only adds what the answer shows (GET /health's hosts).
      const caller = await identify(c.req.header('authorization'), options).catch((): Caller => ({
        kind: 'anonymous',
      }))
      c.set('caller', caller.kind === 'admin' ? caller : { kind: 'anonymous' })
      return next()
    }
    const caller = await identify(c.req.header('authorization'), options)
    if (caller.kind === 'anonymous' && required) {
      c.header('WWW-Authenticate', 'Bearer realm="maxq"')
      throw unauthorized(
        'missing_or_invalid_token',
        'This MaxQ requires "Authorization: Bearer <token>" with MAXQ_API_TOKEN or a run\'s MAXQ_TOKEN',
      )
    }
    if (caller.kind === 'run') {
      const target = requestedRun(c.req.path)
      if (target !== caller.runId) {
        throw new ApiError(403, 'FORBIDDEN', "A run token is valid only on its own run's endpoints", {
          tokenRunId: caller.runId,
        })
      }
      // Not at the run's end itself: a flow call may outlive its run by the grace, and must then
      // get the answers it would get without a token (a stage post: 409 RUN_NOT_ACTIVE).
      if (required && !(await c.get('store').runTokenWorks(caller.runId, c.get('clock').now()))) {
        throw unauthorized('run_ended', 'The run has ended; its MAXQ_TOKEN no longer works')
      }
    }
    c.set('caller', caller)
    return next()
  }
}

async function identify(header: string | undefined, options: AuthOptions): Promise<Caller> {
  const match = header === undefined ? null : /^Bearer +(\S+) *$/i.exec(header)
  const token = match?.[1]
  if (token === undefined) return { kind: 'anonymous' }
  if (isRunToken(token)) {
    const runId = (await options.runTokens()).verify(token)
    if (runId === null) throw unauthorized('invalid_run_token', 'The run token is not valid here')
    return { kind: 'run', runId }
  }
  if (options.apiToken !== undefined && sameSecret(token, options.apiToken)) return { kind: 'admin' }
  return { kind: 'anonymous' }
}

/** The run a path is about (`/api/v1/runs/{run}` and below), or null. */
function requestedRun(path: string): string | null {
  const segment = RUN_PATH.exec(path)?.[1]
  if (segment === undefined) return null
  try {
    return decodeURIComponent(segment)
  } catch {
    return null
  }
}
