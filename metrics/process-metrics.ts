// What this process itself measured, for Prometheus (prom-client): its HTTP requests, its ticks,
// its claims, the leases its ticks reaped and the attempt ends it recorded. Every series carries a
// `process` label (host:pid), so the series of several API or worker processes add up instead of
// overwriting each other. The worker and the handlers record here; GET /metrics (handlers/metrics/)
// serves it beside what the database says. This module knows nothing of HTTP or SQL, so the
// scheduler can record without importing either.

import os from 'node:os'
import { Counter, Histogram, Registry } from 'prom-client'

/** `host:pid`, like a worker id's start. */
export const PROCESS_LABEL = `${os.hostname()}:${process.pid}`

export const processRegistry = new Registry()
processRegistry.setDefaultLabels({ process: PROCESS_LABEL })

/** From a millisecond to a few seconds: requests, claims, ticks. */
const QUICK_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
/** From a tenth of a second to hours: a script's attempt. */
const ATTEMPT_SECONDS = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600]

const registers = [processRegistry]

const httpRequests = new Counter({
  name: 'maxq_http_requests_total',
  help: 'HTTP requests answered by this process, by method, route pattern and status',
  labelNames: ['method', 'route', 'status'] as const,
  registers,
})

const httpSeconds = new Histogram({
  name: 'maxq_http_request_duration_seconds',
  help: 'Time to answer an HTTP request, by method and route pattern',
  labelNames: ['method', 'route'] as const,
  buckets: QUICK_SECONDS,
  registers,
})

const tickSeconds = new Histogram({
  name: 'maxq_tick_duration_seconds',
  help: "Time one tick of this process's worker took (reap, scheduled runs, claim, launch)",
  buckets: QUICK_SECONDS,
  registers,
})

const claimSeconds = new Histogram({
  name: 'maxq_claim_duration_seconds',
  help: "Time one claim of ready steps and flow calls took in this process's ticks (the claim's statements)",
  buckets: QUICK_SECONDS,
  registers,
})

const leasesReaped = new Counter({
  name: 'maxq_leases_reaped_total',
  help: "Lost leases (expired heartbeats) this process's ticks reaped",
  registers,
})

const attemptSeconds = new Histogram({
  name: 'maxq_attempt_duration_seconds',
  help: 'Duration of the step and flow.sh attempts whose end this process recorded, by kind and result',
  labelNames: ['kind', 'result'] as const,
  buckets: ATTEMPT_SECONDS,
  registers,
})

/** `route` is the pattern (`/api/v1/runs/:runId`), never the raw path: one series per route. */
export function recordHttpRequest(method: string, route: string, status: number, seconds: number): void {
  httpRequests.inc({ method, route, status: String(status) })
  httpSeconds.observe({ method, route }, seconds)
}

export function recordTick(seconds: number, reaped: number): void {
  tickSeconds.observe(seconds)
  if (reaped > 0) leasesReaped.inc(reaped)
}

export function recordClaim(seconds: number): void {
  claimSeconds.observe(seconds)
}

/** An accepted exit report: `lease` is `step/…` or `flow/…` (db/rules/lease-key.ts). */
export function recordAttemptEnd(
  lease: string,
  exitCode: number | null,
  startedAt: number | undefined,
  now: number,
): void {
  if (startedAt === undefined) return
  const kind = lease.startsWith('step/') ? 'step' : 'flow_call'
  attemptSeconds.observe(
    { kind, result: exitCode === 0 ? 'ok' : 'failed' },
    Math.max(0, now - startedAt) / 1000,
  )
}
