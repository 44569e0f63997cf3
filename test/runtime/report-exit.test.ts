import { http, HttpResponse } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import type { ExitReportBody } from '../../runtime/process-job.js'
import { httpExitSink, reportExit, sendHeartbeat, type ExitSink } from '../../runtime/report-exit.js'

const apiBase = 'http://maxq.test/api/v1'
const server = setupServer()

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterEach(() => {
  server.resetHandlers()
  vi.restoreAllMocks()
})
afterAll(() => server.close())

const body: ExitReportBody = {
  lease: 'step/run-1/a/1',
  exitCode: 0,
  signal: null,
  timedOut: false,
  stdout: 'out',
  stderr: '',
  startedAt: 1,
}
const opts = { apiBase, fetch: (input: string, init: RequestInit) => fetch(input, init), initialBackoffMs: 1 }
const overHttp = httpExitSink(apiBase, opts.fetch)

function quietStderr(): void {
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
}

describe('reportExit', () => {
  it('retries 5xx until the report is delivered', async () => {
    quietStderr()
    const received: unknown[] = []
    let calls = 0
    server.use(
      http.post(`${apiBase}/leases/exit`, async ({ request }) => {
        calls++
        if (calls <= 2)
          return HttpResponse.json({ error: 'down', code: 'INTERNAL_ERROR', details: null }, { status: 500 })
        expect(request.headers.get('content-type')).toBe('application/json')
        received.push(await request.json())
        return HttpResponse.json({ accepted: true })
      }),
    )
    expect(await reportExit(body, overHttp, opts)).toEqual({ accepted: true })
    expect(calls).toBe(3)
    expect(received).toEqual([body])
  })

  it('gives up on a 400 and says so once', async () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    let calls = 0
    server.use(
      http.post(`${apiBase}/leases/exit`, () => {
        calls++
        return HttpResponse.json({ error: 'bad', code: 'VALIDATION_FAILED', details: [] }, { status: 400 })
      }),
    )
    expect(await reportExit(body, overHttp, opts)).toEqual({ accepted: false })
    expect(calls).toBe(1)
    expect(write).toHaveBeenCalledTimes(1)
    expect(String(write.mock.calls[0]?.[0])).toContain('400')
  })

  it('retries after a network error, a 429 and a 408', async () => {
    quietStderr()
    const answers = [
      HttpResponse.error(),
      new HttpResponse(null, { status: 429 }),
      new HttpResponse(null, { status: 408 }),
    ]
    let calls = 0
    server.use(
      http.post(`${apiBase}/leases/exit`, () => {
        calls++
        return answers.shift() ?? HttpResponse.json({ accepted: false })
      }),
    )
    // A stale or duplicate report is answered 200 {accepted: false}: delivered, nothing changed.
    expect(await reportExit(body, overHttp, opts)).toEqual({ accepted: false })
    expect(calls).toBe(4)
  })

  it('stops retrying when its signal aborts', async () => {
    quietStderr()
    server.use(http.post(`${apiBase}/leases/exit`, () => new HttpResponse(null, { status: 503 })))
    const controller = new AbortController()
    const result = reportExit(body, overHttp, { initialBackoffMs: 60_000, signal: controller.signal })
    controller.abort()
    expect(await result).toEqual({ accepted: false })
  })

  it('retries a sink that throws (the worker store, busy or full) and one that asks to', async () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    const answers: Array<() => Awaited<ReturnType<ExitSink>>> = [
      () => {
        throw new Error('SQLITE_FULL: database or disk is full')
      },
      () => ({ retry: 'busy' }),
      () => ({ accepted: true }),
    ]
    const seen: ExitReportBody[] = []
    const sink: ExitSink = async (report) => {
      seen.push(report)
      const next = answers.shift()
      if (next === undefined) throw new Error('called once too often')
      return next()
    }
    expect(await reportExit(body, sink, { initialBackoffMs: 1 })).toEqual({ accepted: true })
    expect(seen).toEqual([body, body, body])
    // Said once per report, with the first problem.
    expect(write).toHaveBeenCalledTimes(1)
    expect(String(write.mock.calls[0]?.[0])).toContain('disk is full')
  })
})

describe('sendHeartbeat', () => {
  it('returns the lost leases', async () => {
    server.use(
      http.post(`${apiBase}/leases/heartbeat`, async ({ request }) => {
        const sent = (await request.json()) as { workerId: string; leases: string[] }
        return HttpResponse.json({ lost: sent.leases.filter((l) => l.endsWith('/2')) })
      }),
    )
    expect(await sendHeartbeat({ workerId: 'w', leases: ['a/1', 'b/2'] }, opts)).toEqual({ lost: ['b/2'] })
  })

  it('treats a failure as nothing lost', async () => {
    server.use(http.post(`${apiBase}/leases/heartbeat`, () => HttpResponse.error()))
    expect(await sendHeartbeat({ workerId: 'w', leases: ['a/1'] }, opts)).toEqual({ lost: [] })
    server.use(http.post(`${apiBase}/leases/heartbeat`, () => new HttpResponse('nope', { status: 500 })))
    expect(await sendHeartbeat({ workerId: 'w', leases: ['a/1'] }, opts)).toEqual({ lost: [] })
  })
})
