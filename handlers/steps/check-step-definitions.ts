// Checks on a stage's steps that need no database: id format, ids repeated within the request,
// and step names that must be plain directory names with a step.sh in the run's flow. Run before
// the store is touched, so a rejected request changes nothing.

import { isSafeName } from '../../runtime/safe-name.js'
import { ApiError } from '../errors.js'
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
      return new ApiError(
        400,
        'INVALID_STEP_ID',
        `Step id must match ${STEP_ID_PATTERN.source} and be at most ${MAX_ID_LENGTH} characters`,
        { stepId: step.id, index },
      )
    }
    if (seen.has(step.id)) {
      return new ApiError(400, 'DUPLICATE_STEP_ID', 'Step id appears more than once in this stage', {
        stepId: step.id,
        index,
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

/** Every step name must be a step of the flow (an executable steps/<name>/step.sh). */
export function checkStepScripts(flowName: string, missing: string[]): ApiError | null {
  if (missing.length === 0) return null
  return new ApiError(
    400,
    'STEP_SCRIPT_NOT_FOUND',
    `No executable steps/<name>/step.sh in flow ${flowName}`,
    {
      flowName,
      missing,
    },
  )
}
