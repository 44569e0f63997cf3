// How a discovered flow is shown: names and paths relative to FLOWS_ROOT, never the server's own
// paths. `steps` lists the usable steps only (what the original API lists); a flow or step that
// cannot be run is not hidden but explained, in `problem` (the flow's own flow.sh) and `problems`.

import type { FlowInfo, FlowProblem, ScriptProblem } from '../../catalog/discover-flows.js'
import type { FlowSchedules, Schedule } from '../../catalog/flow-schedules.js'
import { nextSlotAt } from '../../catalog/schedule-slots.js'

export interface FlowView {
  name: string
  /** The flow's directory, relative to FLOWS_ROOT. */
  path: string
  steps: string[]
  usable: boolean
  problem: ScriptProblem | null
  /** Also an invalid flow.json (`kind: "invalid_flow_json"`), which leaves the flow usable. */
  problems: Array<FlowProblem | { kind: 'invalid_flow_json'; reason: string }>
  /** flow.json's schedules with their next slot (epoch ms; null while disabled). */
  schedules: ScheduleView[]
}

export type ScheduleView = Omit<Schedule, 'input'> & { input: unknown; nextSlotAt: number | null }

export function flowView(flow: FlowInfo, config: FlowSchedules, now: number): FlowView {
  return {
    name: flow.name,
    path: flow.name,
    steps: flow.steps,
    usable: flow.usable,
    problem: flow.problem,
    problems:
      config.problem === null
        ? flow.problems
        : [...flow.problems, { kind: 'invalid_flow_json', reason: config.problem }],
    schedules: config.schedules.map((schedule) => ({
      ...schedule,
      nextSlotAt: schedule.enabled ? nextSlotOrNull(schedule, now) : null,
    })),
  }
}

/** Null when cron-parser cannot step the cron (one it accepted that reaches no date). */
function nextSlotOrNull(schedule: Schedule, now: number): number | null {
  try {
    return nextSlotAt(schedule, now)
  } catch {
    return null
  }
}
