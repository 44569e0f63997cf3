// The HTTP API: one Hono router made of one module per endpoint. The same app serves the local
// runner, `maxq serve` and the tests (through app.request(), with no port opened).

import { Hono } from 'hono'
import {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_FIELDS_BYTES,
  type AppDeps,
  type AppEnv,
  type WakeEvent,
} from './app-env.js'
import { DEFAULT_RETRY_POLICY } from '../db/rules/decide-attempt.js'
import { runTokens } from '../security/run-token.js'
import { authenticate } from './auth/authenticate.js'
import { checkUrl } from './check-url.js'
import { handleError, handleNotFound } from './errors.js'
import { allEvents } from './events/all-events.js'
import { EventHub } from './events/event-hub.js'
import { runEvents } from './events/run-events.js'
import { discardUnreadBody } from './read-body.js'
import { createUi } from './ui/create-ui.js'
import { getFlow } from './flows/get-flow.js'
import { listFlows } from './flows/list-flows.js'
import { listFlowCalls } from './flow-calls/list-flow-calls.js'
import { postFields } from './fields/post-fields.js'
import { queryFields } from './fields/query-fields.js'
import { getHealth } from './health/get-health.js'
import { heartbeat } from './leases/heartbeat.js'
import { reportExit } from './leases/report-exit.js'
import { createLog } from './logs/create-log.js'
import { listLogs } from './logs/list-logs.js'
import { countRequests } from './metrics/count-requests.js'
import { getMetrics } from './metrics/get-metrics.js'
import { getOpenApi } from './openapi/get-openapi.js'
import { abortRun } from './runs/abort-run.js'
import { createRun } from './runs/create-run.js'
import { deleteRun } from './runs/delete-run.js'
import { getRun } from './runs/get-run.js'
import { listRuns } from './runs/list-runs.js'
import { pauseRun } from './runs/pause-run.js'
import { pruneRuns } from './runs/prune-runs.js'
import { resumeRun } from './runs/resume-run.js'
import { retryRun } from './runs/retry-run.js'
import { triggerRun } from './runs/trigger-run.js'
import { updateRun } from './runs/update-run.js'
import { getStep } from './steps/get-step.js'
import { listSteps } from './steps/list-steps.js'
import { retryStep } from './steps/retry-step.js'
import { scheduleStage } from './steps/schedule-stage.js'

export function createApp(deps: AppDeps): Hono<AppEnv> {
  const logger = deps.logger ?? ((line: string) => console.error(line))
  const maxBodyBytes = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  const maxFieldsBytes = deps.maxFieldsBytes ?? DEFAULT_MAX_FIELDS_BYTES
  const clock = deps.clock ?? { now: () => Date.now() }
  // Idle (no timer, no query) until a stream opens; this process's changes wake it at once.
  const events = deps.events ?? new EventHub(deps.store, { logger })
  // A failing wake-up must not turn a committed write into a 500 (the caller would retry a change
  // that already happened); the scheduler's interval picks the work up anyway.
  const wake = (event?: WakeEvent): void => {
    events.wake()
    try {
      deps.wake?.(event)
    } catch (err) {
      logger(`wake failed: ${err instanceof Error ? err.message : String(err)}`)
    }
  }

  const app = new Hono<AppEnv>()
  app.use('*', countRequests)
  const requestLog = deps.requestLog
  if (requestLog !== undefined) {
    app.use('*', async (c, next) => {
      const started = performance.now()
      await next()
      const ms = (performance.now() - started).toFixed(1)
      requestLog(
        `${c.req.method} ${c.req.path} ${c.res.status} ${ms}ms (${c.get('caller')?.kind ?? 'anonymous'})`,
      )
    })
  }
  app.onError(handleError(logger))
  app.notFound(handleNotFound(logger))
  app.use('*', async (c, next) => {
    c.set('store', deps.store)
    c.set('clock', clock)
    c.set('wake', wake)
    c.set('catalog', deps.catalog)
    c.set('maxBodyBytes', maxBodyBytes)
    c.set('maxFieldsBytes', maxFieldsBytes)
    c.set('retryDefaults', deps.retryDefaults ?? DEFAULT_RETRY_POLICY)
    c.set('events', events)
    await next()
    // Any change this process's API made may be news to its event streams (a no-op without any).
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') events.wake()
    // A body no handler read (a 401, a 415, a GET with a body) must still leave the wire.
    discardUnreadBody(c)
  })
  app.use(
    '*',
    authenticate({
      apiToken: deps.apiToken,
      metricsPublic: deps.metricsPublic ?? false,
      // The store keeps the key once it has read it; a RunTokens over it is two closures.
      runTokens: async () => deps.runTokens ?? runTokens(await deps.store.runTokenKey()),
    }),
  )
  app.use('*', checkUrl)

  app.route('/', getHealth)
  app.route('/api/v1', getHealth)
  app.route('/api/v1', getOpenApi)
  app.route('/', getMetrics)
  app.route('/api/v1', listFlows)
  app.route('/api/v1', getFlow)
  app.route('/api/v1', triggerRun)
  app.route('/api/v1', createRun)
  app.route('/api/v1', pruneRuns)
  app.route('/api/v1', listRuns)
  app.route('/api/v1', getRun)
  app.route('/api/v1', updateRun)
  app.route('/api/v1', deleteRun)
  app.route('/api/v1', abortRun)
  app.route('/api/v1', retryRun)
  app.route('/api/v1', pauseRun)
  app.route('/api/v1', resumeRun)
  app.route('/api/v1', scheduleStage)
  app.route('/api/v1', listSteps)
  app.route('/api/v1', listFlowCalls)
  app.route('/api/v1', getStep)
  app.route('/api/v1', retryStep)
  app.route('/api/v1', postFields)
  app.route('/api/v1', queryFields)
  app.route('/api/v1', createLog)
  app.route('/api/v1', listLogs)
  app.route('/api/v1', runEvents)
  app.route('/api/v1', allEvents)
  app.route('/api/v1', reportExit)
  app.route('/api/v1', heartbeat)
  // The dashboard (/ui, and / sends a browser there) calls this same app for everything it shows
  // and does, with the API token, once its own login let the visitor in.
  app.route('/', createUi({ apiToken: deps.apiToken, dispatch: async (request) => app.request(request) }))
  return app
}
