// How a discovered flow is shown: names and paths relative to FLOWS_ROOT, never the server's own
// paths. `steps` lists the usable steps only (what the original API lists); a flow or step that
// cannot be run is not hidden but explained, in `problem` (the flow's own flow.sh) and `problems`.

import type { FlowInfo, FlowProblem, ScriptProblem } from '../../catalog/discover-flows.js'

export interface FlowView {
  name: string
  /** The flow's directory, relative to FLOWS_ROOT. */
  path: string
  steps: string[]
  usable: boolean
  problem: ScriptProblem | null
  problems: FlowProblem[]
}

export function flowView(flow: FlowInfo): FlowView {
  return {
    name: flow.name,
    path: flow.name,
    steps: flow.steps,
    usable: flow.usable,
    problem: flow.problem,
    problems: flow.problems,
  }
}
