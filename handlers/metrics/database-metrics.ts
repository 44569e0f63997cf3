// The metrics read from the database at scrape time (db/queries/read-metrics.ts): runs by status,
// the steps of open runs by status, the queue's depth, and the durations of the runs that finished
// within the last hour. The database is shared, so every API process reports the same values; these
// carry no `process` label (aggregate with max, not sum). A fresh registry per scrape: the
// handler keeps no state between requests.

import { Gauge, Registry } from 'prom-client'
import { RUN_DURATION_BUCKETS } from '../../db/queries/read-metrics.js'
import type { ApiStore } from '../../db/store.js'
import { RUN_STATUSES, STEP_STATUSES } from '../../db/types.js'

/** How far back the run duration buckets look. */
export const RECENT_RUNS_MS = 60 * 60 * 1000

export async function databaseMetrics(store: ApiStore, now: number): Promise<Registry> {
  const counts = await store.readMetrics(now, now - RECENT_RUNS_MS)
  const registry = new Registry()
  const registers = [registry]

  const runs = new Gauge({
    name: 'maxq_runs',
    help: 'Runs in the database, by status',
    labelNames: ['status'],
    registers,
  })
  for (const status of RUN_STATUSES) runs.set({ status }, counts.runs[status] ?? 0)

  const steps = new Gauge({
    name: 'maxq_open_run_steps',
    help: 'Steps of the runs not yet finished (pending, running or paused), by status',
    labelNames: ['status'],
    registers,
  })
  for (const status of STEP_STATUSES) steps.set({ status }, counts.openRunSteps[status] ?? 0)

  const queue = new Gauge({
    name: 'maxq_queue_depth',
    help: 'Work by state: ready (claimable now), running, waiting (pending, not claimable yet)',
    labelNames: ['kind', 'state'],
    registers,
  })
  const pending = counts.openRunSteps.pending ?? 0
  queue.set({ kind: 'step', state: 'ready' }, counts.readySteps)
  queue.set({ kind: 'step', state: 'running' }, counts.openRunSteps.running ?? 0)
  queue.set({ kind: 'step', state: 'waiting' }, pending - counts.readySteps)
  queue.set({ kind: 'flow_call', state: 'ready' }, counts.queuedFlowCalls.ready)
  queue.set({ kind: 'flow_call', state: 'running' }, counts.runningFlowCalls)
  queue.set({ kind: 'flow_call', state: 'waiting' }, counts.queuedFlowCalls.waiting)

  // A histogram of a window, not of all time, so its buckets are gauges: histogram_quantile()
  // reads them as they are, with no rate().
  const name = 'maxq_recent_run_duration_seconds'
  const help = 'Runs that finished within the last hour (and had started), by status and duration'
  const buckets = new Gauge({ name: `${name}_bucket`, help, labelNames: ['status', 'le'], registers })
  const sum = new Gauge({ name: `${name}_sum`, help, labelNames: ['status'], registers })
  const count = new Gauge({ name: `${name}_count`, help, labelNames: ['status'], registers })
  for (const status of ['completed', 'failed'] as const) {
    const found = counts.recentRunDurations[status]
    RUN_DURATION_BUCKETS.forEach((bound, i) =>
      buckets.set({ status, le: String(bound) }, found?.buckets[i] ?? 0),
    )
    buckets.set({ status, le: '+Inf' }, found?.count ?? 0)
    sum.set({ status }, found?.sumSeconds ?? 0)
    count.set({ status }, found?.count ?? 0)
  }
  return registry
}
