// Checks on a stage's steps that need no database: id format, ids repeated within the request,
// and step names that must be plain directory names with a usable step.sh in the run's flow. Run
// before the store is touched, so a rejected request changes nothing. Each error's details carry a
// `reason` (as the original MaxQ's do) beside the value that was refused.

import type { Context } from 'hono'
import type { StepScriptProblem } from '../../catalog/discover-flows.js'
import { isSafeName } from '../../catalog/safe-name.js'
import type { AppEnv } from '../app-env.js'
import { ApiError, type InvalidField } from '../errors.js'
import { MAX_ID_LENGTH } from '../shared-schemas.js'

const STEP_ID_PATTERN = /^[a-zA-Z0-9_-]+$/

interface StepRef {
  id: string
  name: string
}

export function checkStepDefinitions(steps: readonly StepRef[]): ApiError | null {
  const seen = new Set<string>()
  for (const [index, step] of steps.entries()) {
    if (step.id.length > MAX_ID_LENGTH || !STEP_ID_PATTERN.test(step.id)) {
      const reason = `Step ID must match pattern: ${STEP_ID_PATTERN.source} and be at most ${MAX_ID_LENGTH} characters`
      return new ApiError(400, 'INVALID_STEP_ID', `Invalid step ID ${JSON.stringify(step.id)}: ${reason}`, {
        stepId: step.id,
        index,
        reason,
      })
    }
    if (seen.has(step.id)) {
      const reason = 'Step ID appears more than once in this stage'
      return new ApiError(400, 'DUPLICATE_STEP_ID', `Duplicate step ID ${step.id}: ${reason}`, {
        stepId: step.id,
        index,
        reason,
      })
    }
    seen.add(step.id)
    if (!isSafeName(step.name)) {
      return new ApiError(400, 'INVALID_STEP_NAME', 'Step name must be a plain directory name under steps/', {
        stepId: step.id,
        stepName: step.name,
        index,
      })
    }
  }
  return null
}

/**
 * Every step name must be a usable step of the flow (an executable steps/<name>/step.sh inside
 * FLOWS_ROOT whose #! line can run): 400 STEP_NOT_FOUND naming the first that is not, with the
 * reason, and every such name in `missing` and `problems`.
 */
export function checkStepScripts(flowName: string, problems: StepScriptProblem[]): ApiError | null {
  const [first] = problems
  if (first === undefined) return null
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''
  return new ApiError(400, 'STEP_NOT_FOUND', `Step ${first.name} cannot be run: ${first.reason}${more}`, {
    name: first.name,
    path: first.path,
    kind: first.kind,
    reason: first.reason,
    flowName,
    missing: problems.map((problem) => problem.name),
    problems,
  })
}

/**
 * For a stage post the schema refused: its steps whose `name` names no usable script, as more
 * problems of the same 400 (a misspelled key and a misspelled step name are reported together).
 */
export async function stepScriptIssues(
  c: Context<AppEnv>,
  body: Record<string, unknown>,
): Promise<InvalidField[]> {
  const steps = Array.isArray(body.steps) ? (body.steps as unknown[]).slice(0, MAX_STEPS_CHECKED) : []
  const named = steps.flatMap((step, index) =>
    typeof step === 'object' && step !== null && 'name' in step && typeof step.name === 'string'
      ? [{ index, name: step.name }]
      : [],
  )
  const runId = c.req.param('runId')
  const flowName =
    runId === undefined || named.length === 0 ? null : await c.get('store').getRunFlowName(runId)
  if (flowName === null) return []
  const problems = await c.get('catalog').unusableStepScripts(
    flowName,
    named.map((step) => step.name),
  )
  return named.flatMap(({ index, name }) => {
    const problem = problems.find((p) => p.name === name)
    return problem === undefined
      ? []
      : [
          {
            path: `steps.${index}.name`,
            message: `step ${JSON.stringify(name)} cannot be run: ${problem.reason}`,
          },
        ]
  })
}

/** A refused body's steps are looked up only this far: enough for any mistake a person makes. */
const MAX_STEPS_CHECKED = 1_000
