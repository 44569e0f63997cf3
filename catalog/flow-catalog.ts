// The flows under one FLOWS_ROOT, as the API sees them. Handlers get a Catalog through the app's
// dependencies (`c.get('catalog')`) instead of a path, so they never build paths themselves, and a
// test can hand them a root of its own.

import {
  discoverFlows,
  findFlow,
  unusableStepScripts,
  type FlowInfo,
  type StepScriptProblem,
} from './discover-flows.js'
import { FlowSchedulesReader, type FlowSchedules } from './flow-schedules.js'

export interface Catalog {
  /** Every flow directory, usable or not, sorted by name (discover-flows.ts). */
  listFlows(): Promise<FlowInfo[]>
  /** One flow by name, or null; `steps: false` looks at flow.sh only (what a trigger needs). */
  findFlow(flowName: string, options?: { steps?: boolean }): Promise<FlowInfo | null>
  /** The step names among `stepNames` with no usable step.sh in the flow, with the reason. */
  unusableStepScripts(flowName: string, stepNames: readonly string[]): Promise<StepScriptProblem[]>
  /** The flow's flow.json schedules, or the problem with that file (flow-schedules.ts). */
  schedules(flowName: string): Promise<FlowSchedules>
}

/**
 * The catalog of the flows under flowsRoot. Every call reads the disk; only a flow.json is parsed
 * again just when it changed.
 */
export function flowCatalog(flowsRoot: string): Catalog {
  const schedules = new FlowSchedulesReader(flowsRoot)
  return {
    schedules: (flowName) => schedules.read(flowName),
    listFlows: () => discoverFlows(flowsRoot),
    findFlow: (flowName, options) => findFlow(flowsRoot, flowName, options),
    unusableStepScripts: (flowName, stepNames) => unusableStepScripts(flowsRoot, flowName, stepNames),
  }
}
