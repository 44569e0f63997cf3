// POST /api/v1/runs/:runId/steps: the flow schedules a stage. Request-only checks come first, then
// the run's flow is read to check that every step name has a script, then the store writes the
// stage in one transaction (and rejects unknown dependencies, cycles and reused ids). The body's
// shape and limits are in stage-definition.ts.

import { Hono } from 'hono'
import type { AppEnv } from '../app-env.js'
import { apiErrorFromOutcome } from '../errors.js'
import { RunParams } from '../shared-schemas.js'
import { body, params } from '../validate.js'
import { checkStepDefinitions, checkStepScripts, stepScriptIssues } from './check-step-definitions.js'
import { ScheduleStageBody } from './stage-definition.js'

export const scheduleStage = new Hono<AppEnv>().post(
  '/runs/:runId/steps',
  params(RunParams),
  body(ScheduleStageBody, { moreProblems: stepScriptIssues }),
  async (c) => {
    const { runId } = c.req.valid('param')
    const stage = c.req.valid('json')
    const invalid = checkStepDefinitions(stage.steps)
    if (invalid) throw invalid
    const flowName = await c.get('store').getRunFlowName(runId)
    if (flowName === null) throw apiErrorFromOutcome('RUN_NOT_FOUND', { runId })
    const names = stage.steps.map((step) => step.name)
    const missing = checkStepScripts(flowName, await c.get('catalog').unusableStepScripts(flowName, names))
    if (missing) throw missing
    // A step that sets no retry delay gets this server's, stored on the step (its policy is then
    // the same whoever records its failures).
    const defaults = c.get('retryDefaults')
    const steps = stage.steps.map((step) => ({
      ...step,
      retryDelaySeconds: step.retryDelaySeconds ?? defaults.retryDelayMs / 1000,
      retryBackoff: step.retryBackoff ?? defaults.retryBackoff,
    }))
    const outcome = await c.get('store').scheduleStage(runId, { ...stage, steps }, c.get('clock').now())
    if (!outcome.ok) throw apiErrorFromOutcome(outcome.code, outcome.details)
    c.get('wake')()
    return c.json(outcome.value, 201)
  },
)
