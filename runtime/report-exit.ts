// The supervisor's only outbound calls: to the API, or to a worker's own store (ReportSinks). The
// exit report carries the lease (the attempt's fencing token), so delivering it twice is harmless
// and it is retried until delivered; a heartbeat is cheap to lose because the next interval sends
// another.

import type { ExitReportBody, HeartbeatBody } from './process-job.js'
import { REPORT_RETRY_INITIAL_MS, REPORT_RETRY_MAX_MS, REQUEST_TIMEOUT_MS } from './limits.js'

/**
 * What the runtime needs of fetch. The global fetch fits, and so does a Hono app's
 * `(input, init) => app.request(input, init)`, which skips the socket (the tests use it).
 */
export type FetchLike = (input: string, init: RequestInit) => Response | Promise<Response>

/**
 * One attempt to deliver an exit report. It answers whether the report was accepted (false: stale,
 * duplicate or rejected for good), or `retry` with the transient problem; a throw counts as one.
 */
export type ExitSink = (body: ExitReportBody) => Promise<{ accepted: boolean } | { retry: string }>

/** One lease renewal: answers the leases no longer live. A failure means nothing was lost. */
export type HeartbeatSink = (body: HeartbeatBody) => Promise<{ lost: string[] }>

/** Where a supervisor's reports go: the API over HTTP, or a worker's own store. */
export interface ReportSinks {
  exit: ExitSink
  heartbeat: HeartbeatSink
}

/**
 * The API's internal endpoints, through `fetchFn` (the global fetch, or an app's request()), with
 * the API token when the API requires one.
 */
export function httpSinks(apiBase: string, fetchFn: FetchLike, apiToken?: string): ReportSinks {
  const send: FetchLike =
    apiToken === undefined
      ? fetchFn
      : (input, init) =>
          fetchFn(input, {
            ...init,
            headers: { ...plainHeaders(init.headers), authorization: `Bearer ${apiToken}` },
          })
  return {
    exit: httpExitSink(apiBase, send),
    heartbeat: (body) => sendHeartbeat(body, { apiBase, fetch: send }),
  }
}

function plainHeaders(headers: RequestInit['headers']): Record<string, string> {
  return Object.fromEntries(new Headers(headers).entries())
}

export interface ReportOptions {
  /** Stops retrying (the answer is then `accepted: false`); without it a report is retried forever. */
  signal?: AbortSignal
  initialBackoffMs?: number
  maxBackoffMs?: number
}

/** Delivers the exit report through `sink`, retrying transient failures with exponential backoff. */
export async function reportExit(
  body: ExitReportBody,
  sink: ExitSink,
  opts: ReportOptions = {},
): Promise<{ accepted: boolean }> {
  let backoffMs = opts.initialBackoffMs ?? REPORT_RETRY_INITIAL_MS
  const maxBackoffMs = opts.maxBackoffMs ?? REPORT_RETRY_MAX_MS
  let complained = false
  for (;;) {
    if (opts.signal?.aborted === true) return { accepted: false }
    let problem: string
    try {
      const answer = await sink(body)
      if ('accepted' in answer) return answer
      problem = answer.retry
    } catch (error) {
      problem = error instanceof Error ? error.message : String(error)
    }
    if (!complained) {
      // Once per report: a down API should not flood the log while it is retried.
      process.stderr.write(`maxq: exit report for ${body.lease} not delivered (${problem}); retrying\n`)
      complained = true
    }
    await delay(backoffMs, opts.signal)
    backoffMs = Math.min(backoffMs * 2, maxBackoffMs)
  }
}

/** Posts exit reports to `${apiBase}/leases/exit`; network errors, 5xx, 408 and 429 are retried. */
export function httpExitSink(apiBase: string, fetchFn: FetchLike): ExitSink {
  const url = `${apiBase}/leases/exit`
  return async (body) => {
    const response = await postJson(fetchFn, url, body)
    if (response.ok) return { accepted: await acceptedFrom(response) }
    const text = await response.text().catch(() => '')
    if (isRetryable(response.status)) return { retry: `HTTP ${response.status}` }
    process.stderr.write(
      `maxq: exit report for ${body.lease} rejected with ${response.status}: ${text.slice(0, 500)}\n`,
    )
    return { accepted: false }
  }
}

/** One try to renew leases; on any failure the answer is `{lost: []}` and the next interval retries. */
export async function sendHeartbeat(
  body: HeartbeatBody,
  opts: { apiBase: string; fetch: FetchLike },
): Promise<{ lost: string[] }> {
  try {
    const response = await postJson(opts.fetch, `${opts.apiBase}/leases/heartbeat`, body)
    if (!response.ok) return { lost: [] }
    const answer: unknown = await response.json()
    if (typeof answer !== 'object' || answer === null || !('lost' in answer) || !Array.isArray(answer.lost)) {
      return { lost: [] }
    }
    return { lost: answer.lost.filter((lease): lease is string => typeof lease === 'string') }
  } catch {
    return { lost: [] }
  }
}

function postJson(fetchFn: FetchLike, url: string, body: unknown): Response | Promise<Response> {
  return fetchFn(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  })
}

function isRetryable(status: number): boolean {
  return status >= 500 || status === 408 || status === 429
}

async function acceptedFrom(response: Response): Promise<boolean> {
  try {
    const answer: unknown = await response.json()
    if (typeof answer === 'object' && answer !== null && 'accepted' in answer) {
      return answer.accepted === true
    }
  } catch {
    // A 2xx without a readable body still means the report arrived.
  }
  return true
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve()
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
    function done(): void {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
  })
}
