// Triggering a run and waiting for its end. The wait polls GET /runs/{id} every POLL_MS (light, but
// part of the measured system), and the figure taken is the server's own createdAt → completedAt,
// so the polling granularity does not enter the result.

import type { HttpClient } from './http.js'

export const POLL_MS = 15

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

export async function runFlow(client: HttpClient, flow: string): Promise<FinishedRun> {
  const run = await trigger(client, flow)
  return waitForRun(client, run.id)
}
