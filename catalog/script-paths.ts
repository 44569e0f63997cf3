// Where a flow's or a step's script is and where it runs: FLOWS_ROOT/<flow>/flow.sh in the flow's
// directory, FLOWS_ROOT/<flow>/steps/<step>/step.sh in the step's. The names come from rows the API
// checked; they are checked again here, since a path built from them must stay under FLOWS_ROOT.

import path from 'node:path'
import { isSafeName } from './safe-name.js'

export interface ScriptPaths {
  command: string
  cwd: string
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
