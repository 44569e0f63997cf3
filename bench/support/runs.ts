// Triggering a run and waiting for its end. The figure taken is the server's own createdAt →
// completedAt, so the polling granularity does not enter the result, but the polling itself does:
// on the 2-core VM of docs/performance.md, waking every 15 ms (to poll, or even just a timer in
// this process) added about 5 ms to every stage of MaxQ's runs, a cost the floor's bash loop never
// pays. Every 100 ms it is lost in the noise.

import type { HttpClient } from './http.js'

export const POLL_MS = 100

export interface RunView {
  id: string
  status: string
  createdAt: number
  completedAt: number | null
}

export interface FinishedRun {
  id: string
  createdAt: number
  completedAt: number
  /** Server-side trigger → completed, ms. */
  ms: number
}

export async function trigger(client: HttpClient, flow: string): Promise<RunView> {
  return client.json<RunView>('POST', `/api/v1/flows/${flow}/runs`, {})
}

export async function waitForRun(client: HttpClient, id: string, timeoutMs = 600_000): Promise<FinishedRun> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const run = await client.json<RunView>('GET', `/api/v1/runs/${id}`)
    if (run.status === 'completed' && run.completedAt !== null) {
      return {
        id,
        createdAt: run.createdAt,
        completedAt: run.completedAt,
        ms: run.completedAt - run.createdAt,
      }
    }
    if (run.status === 'failed') throw new Error(`bench: run ${id} failed: ${JSON.stringify(run)}`)
    if (Date.now() > deadline) throw new Error(`bench: run ${id} did not finish within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
}

/**
 * Waits for each run in turn, polling only the first unfinished one: N runs polled at once would
 * ask the server N times more often than the floor is ever asked (100 runs every 100 ms cost a
 * PostgreSQL server 8% of a core and 12–15% of the throughput of 100 runs × 100 steps).
 */
export async function waitForRuns(client: HttpClient, ids: readonly string[]): Promise<FinishedRun[]> {
  const finished: FinishedRun[] = []
  for (const id of ids) finished.push(await waitForRun(client, id))
  return finished
}

export async function runFlow(client: HttpClient, flow: string): Promise<FinishedRun> {
  const run = await trigger(client, flow)
  return waitForRun(client, run.id)
}
