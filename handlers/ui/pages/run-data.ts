// What the run page shows, read from the API: the run with its stages, every step (page by page),
// the newest log entries and the flow calls.

import type { FlowCall, LogEntry, RunWithStages, Step } from '../../../db/types.js'
import type { CallApi } from '../ui-env.js'

/** The API's largest page of steps. */
const STEPS_PAGE = 1000
/** Past this many steps the page says so instead of reading on: 20 pages of the API. */
export const MAX_SHOWN_STEPS = 20_000
export const SHOWN_LOGS = 200

export interface RunData {
  run: RunWithStages
  steps: Step[]
  /** The run has more steps than MAX_SHOWN_STEPS. */
  stepsCut: boolean
  logs: LogEntry[]
  flowCalls: FlowCall[]
}

export type RunDataOutcome = { ok: true; data: RunData } | { ok: false; status: number; body: unknown }

export async function loadRun(api: CallApi, runId: string): Promise<RunDataOutcome> {
  const base = `/runs/${encodeURIComponent(runId)}`
  const run = await api<RunWithStages>('GET', base)
  if (!run.ok) return { ok: false, status: run.status, body: run.body }
  const [logs, flowCalls] = await Promise.all([
    api<{ logs: LogEntry[] }>('GET', `${base}/logs?limit=${SHOWN_LOGS}`),
    api<{ flowCalls: FlowCall[] }>('GET', `${base}/flow-calls`),
  ])
  const steps: Step[] = []
  let total = 0
  do {
    const page = await api<{ steps: Step[]; pagination: { total: number } }>(
      'GET',
      `${base}/steps?limit=${STEPS_PAGE}&offset=${steps.length}`,
    )
    if (!page.ok) return { ok: false, status: page.status, body: page.body }
    steps.push(...page.body.steps)
    total = page.body.pagination.total
    if (page.body.steps.length === 0) break
  } while (steps.length < total && steps.length < MAX_SHOWN_STEPS)
  return {
    ok: true,
    data: {
      run: run.body,
      steps,
      stepsCut: steps.length < total,
      logs: logs.ok ? logs.body.logs : [],
      flowCalls: flowCalls.ok ? (flowCalls.body.flowCalls ?? []) : [],
    },
  }
}
