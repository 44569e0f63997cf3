// POST /api/v1/runs/:runId/steps: the flow schedules a stage. Request-only checks come first, then
// the run's flow is read to check that every step name has a script, then the store writes the
// stage in one transaction (and rejects unknown dependencies, cycles and reused ids).

import { Hono } from 'hono'
import * as v from 'valibot'
import { unusableStepScripts } from '../../runtime/discover-flows.js'
import type { AppEnv } from '../app-env.js'
import { apiErrorFromOutcome } from '../errors.js'
import { MAX_ID_LENGTH, RunParams } from '../shared-schemas.js'
import { body, params } from '../validate.js'
import { checkStepDefinitions, checkStepScripts } from './check-step-definitions.js'

export const MAX_STEPS_PER_STAGE = 10_000
export const MAX_RETRIES = 100
/** Node timers cannot wait longer than 2^31-1 ms (24.8 days); stay below it. */
export const MAX_TIMEOUT_SECONDS = 24 * 24 * 60 * 60

const EnvKey = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'env keys must be shell identifiers ([A-Za-z_][A-Za-z0-9_]*)'),
)
// A NUL byte cannot be passed in a process environment; reject it here rather than at spawn.
const EnvValue = v.pipe(
  v.string('env values must be strings'),
  v.excludes('\0', 'env values must not contain NUL'),
)

const StepDefinitionSchema = v.object({
  // Checked by checkStepDefinitions, which answers INVALID_STEP_ID / INVALID_STEP_NAME with the
  // offending value, rather than a generic VALIDATION_FAILED.
  id: v.string(),
  name: v.string(),
  dependsOn: v.optional(v.pipe(v.array(v.string()), v.maxLength(MAX_STEPS_PER_STAGE))),
  maxRetries: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(MAX_RETRIES)), 0),
  env: v.optional(v.record(EnvKey, EnvValue)),
  timeoutSeconds: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_TIMEOUT_SECONDS))),
})

export const ScheduleStageBody = v.object({
  stage: v.pipe(v.string(), v.nonEmpty('must not be empty'), v.maxLength(MAX_ID_LENGTH)),
  final: v.boolean(),
  steps: v.pipe(
    v.array(StepDefinitionSchema),
    v.nonEmpty('must list at least one step'),
    v.maxLength(MAX_STEPS_PER_STAGE),
  ),
})

export const scheduleStage = new Hono<AppEnv>().post(
  '/runs/:runId/steps',
  params(RunParams),
  body(ScheduleStageBody),
  async (c) => {
    const { runId } = c.req.valid('param')
    const stage = c.req.valid('json')
    const invalid = checkStepDefinitions(stage.steps)
    if (invalid) throw invalid
    const flowName = await c.var.store.getRunFlowName(runId)
    if (flowName === null) throw apiErrorFromOutcome('RUN_NOT_FOUND', { runId })
    const names = stage.steps.map((step) => step.name)
    const missing = checkStepScripts(flowName, await unusableStepScripts(c.var.flowsRoot, flowName, names))
    if (missing) throw missing
    const outcome = await c.var.store.scheduleStage(runId, stage, c.var.clock.now())
    if (!outcome.ok) throw apiErrorFromOutcome(outcome.code, outcome.details)
    c.var.wake()
    return c.json(outcome.value, 201)
  },
)
