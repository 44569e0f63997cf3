// The supervisor's only outbound calls. The exit report carries the lease (the attempt's fencing
// token), so delivering it twice is harmless and it is retried until delivered; a heartbeat is
// cheap to lose because the next interval sends another.

import type { ExitReportBody, HeartbeatBody } from './process-job.js'
import { REPORT_RETRY_INITIAL_MS, REPORT_RETRY_MAX_MS, REQUEST_TIMEOUT_MS } from './limits.js'

/**
 * What the runtime needs of fetch. The global fetch fits, and so does a Hono app's
 * `(input, init) => app.request(input, init)`, which lets the one-process runner skip the socket.
 */
export type FetchLike = (input: string, init: RequestInit) => Response | Promise<Response>

export interface ReportOptions {
  /** e.g. http://127.0.0.1:3000/api/v1 */
  apiBase: string
  fetch: FetchLike
  /** Stops retrying (the answer is then `accepted: false`); without it a report is retried forever. */
  signal?: AbortSignal
  initialBackoffMs?: number
  maxBackoffMs?: number
}

/** Posts the exit report, retrying network errors, 5xx, 408 and 429 with exponential backoff. */
export async function reportExit(body: ExitReportBody, opts: ReportOptions): Promise<{ accepted: boolean }> {
  const url = `${opts.apiBase}/leases/exit`
  let backoffMs = opts.initialBackoffMs ?? REPORT_RETRY_INITIAL_MS
  const maxBackoffMs = opts.maxBackoffMs ?? REPORT_RETRY_MAX_MS
  let complained = false
  for (;;) {
    if (opts.signal?.aborted === true) return { accepted: false }
    let problem: string
    try {
      const response = await postJson(opts.fetch, url, body)
      if (response.ok) return { accepted: await acceptedFrom(response) }
      const text = await response.text().catch(() => '')
      if (!isRetryable(response.status)) {
        process.stderr.write(
          `maxq: exit report for ${body.lease} rejected with ${response.status}: ${text.slice(0, 500)}\n`,
        )
        return { accepted: false }
      }
      problem = `HTTP ${response.status}`
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

/** One try to renew leases; on any failure the answer is `{lost: []}` and the next interval retries. */
export async function sendHeartbeat(
  body: HeartbeatBody,
  opts: Pick<ReportOptions, 'apiBase' | 'fetch'>,
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
