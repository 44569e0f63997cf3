// The app as a whole: health, unknown routes, body limits, JSON parsing and unexpected errors.

import { afterEach, describe, expect, it } from 'vitest'
import type { Store } from '../../db/store.js'
import {
  createHandlerApp,
  expectApiError,
  type HandlerApp,
  type HandlerAppOptions,
} from '../support/handler-app.js'

const listAll = { limit: 1000, offset: 0, sortBy: 'createdAt', sortOrder: 'desc' } as const

let api: HandlerApp | undefined

async function start(options: HandlerAppOptions = {}): Promise<HandlerApp> {
  api = await createHandlerApp(options)
  return api
}

afterEach(async () => {
  await api?.close()
  api = undefined
})

/** The real store with one method replaced; everything else still hits SQLite. */
function withMethod<K extends keyof Store>(store: Store, name: K, replacement: Store[K]): Store {
  const wrapped: Store = Object.create(store) as Store
  Object.defineProperty(wrapped, name, { value: replacement })
  return wrapped
}

describe('GET /health', () => {
  it('answers ok at /health and at /api/v1/health', async () => {
    const { send } = await start()
    for (const path of ['/health', '/api/v1/health']) {
      const res = await send('GET', path)
      expect(res.status).toBe(200)
      expect(res.body).toEqual({
        status: 'ok',
        database: 'ok',
        workers: { live: 0, running: 0, limit: 0, list: [] },
      })
    }
  })

  it('lists live workers (issue 18): id, host and pid only to the token holder when MAXQ_API_TOKEN is set', async () => {
    const { send, store } = await start({ apiToken: 'secret-token' })
    const now = Date.now()
    const worker = {
      id: 'box:42:abc',
      host: 'box',
      pid: 42,
      kind: 'tick-loop' as const,
      startedAt: now - 1_000,
      seenAt: now,
      running: 1,
      limit: 4,
      heartbeatMs: 10_000,
    }
    await store.recordWorker(worker)
    // A dead worker's row (not seen within 3 heartbeats) is not listed.
    await store.recordWorker({ ...worker, id: 'gone', seenAt: now - 31_000 })
    const shown = { kind: 'tick-loop', startedAt: now - 1_000, seenAt: now, running: 1, limit: 4 }
    const anonymous = await send('GET', '/health')
    expect(anonymous.body).toEqual({
      status: 'ok',
      database: 'ok',
      workers: { live: 1, running: 1, limit: 4, list: [shown] },
    })
    const admin = await send('GET', '/api/v1/health', undefined, {
      headers: { authorization: 'Bearer secret-token' },
    })
    expect(admin.body).toMatchObject({
      workers: { live: 1, list: [{ id: 'box:42:abc', host: 'box', pid: 42, ...shown }] },
    })
  })

  it('answers 503 when the database does not answer', async () => {
    const { send } = await start({
      wrapStore: (store) =>
        withMethod(store, 'ping', async () => {
          throw new Error('connection refused')
        }),
    })
    const res = await send('GET', '/api/v1/health')
    expect(res.status).toBe(503)
    expect(res.body).toMatchObject({ status: 'error', database: 'error', code: 'DATABASE_UNAVAILABLE' })
  })
})

describe('unknown routes', () => {
  it('answers 404 NOT_FOUND in the error shape', async () => {
    const { send } = await start()
    expectApiError(await send('GET', '/api/v1/nope'), 404, 'NOT_FOUND')
    expectApiError(await send('PUT', '/api/v1/runs/abc'), 404, 'NOT_FOUND')
  })
})

describe('request bodies', () => {
  it('answers 413 PAYLOAD_TOO_LARGE above maxBodyBytes, with or without Content-Length', async () => {
    const { send, store } = await start({ maxBodyBytes: 1024 })
    const big = JSON.stringify({ input: 'x'.repeat(2048) })
    const withLength = await send('POST', '/api/v1/flows/hello/runs', big, {
      headers: { 'Content-Type': 'application/json', 'Content-Length': String(big.length) },
    })
    expectApiError(withLength, 413, 'PAYLOAD_TOO_LARGE')
    const streamed = await send('POST', '/api/v1/flows/hello/runs', big, {
      headers: { 'Content-Type': 'application/json' },
    })
    expectApiError(streamed, 413, 'PAYLOAD_TOO_LARGE')
    expect((await store.listRuns(listAll)).total).toBe(0)
  })

  it('accepts a body just under the limit', async () => {
    const { send } = await start({ maxBodyBytes: 1024 })
    const res = await send('POST', '/api/v1/flows/hello/runs', { input: 'x'.repeat(900) })
    expect(res.status).toBe(201)
  })

  it('answers 400 INVALID_JSON for a malformed body and creates nothing', async () => {
    const { send, store } = await start()
    const res = await send('POST', '/api/v1/flows/hello/runs', '{"input": ', {
      headers: { 'Content-Type': 'application/json' },
    })
    const body = expectApiError(res, 400, 'INVALID_JSON')
    expect(body.details).toMatchObject({ reason: expect.any(String) })
    expect((await store.listRuns(listAll)).total).toBe(0)
  })

  it('parses JSON whatever the Content-Type (curl -d sends x-www-form-urlencoded)', async () => {
    const { send } = await start()
    const res = await send('POST', '/api/v1/runs', '{"flowName":"hello","input":{"n":1}}', {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({ flowName: 'hello', input: { n: 1 } })
    const noHeader = await send('POST', '/api/v1/runs', '{"flowName":"hello"}', { headers: {} })
    expect(noHeader.status).toBe(201)
  })

  it('reads an empty body as {}', async () => {
    const { send } = await start()
    const res = await send('POST', '/api/v1/flows/hello/runs', '', { headers: {} })
    expect(res.status).toBe(201)
    const none = await send('POST', '/api/v1/flows/hello/runs')
    expect(none.status).toBe(201)
  })

  it('answers 400 VALIDATION_FAILED with {path, message} details', async () => {
    const { send } = await start()
    const res = await send('POST', '/api/v1/runs', { flowName: 42 })
    const body = expectApiError(res, 400, 'VALIDATION_FAILED')
    expect(body.details).toEqual([{ path: 'flowName', message: expect.any(String) }])
    const notObject = await send('POST', '/api/v1/runs', [{ flowName: 'hello' }])
    expect(expectApiError(notObject, 400, 'VALIDATION_FAILED').details).toEqual([
      { path: '', message: 'Request body must be a JSON object' },
    ])
    for (const scalar of ['null', '3', '"text"']) {
      expectApiError(await send('POST', '/api/v1/runs', scalar), 400, 'VALIDATION_FAILED')
    }
  })
})

describe('unexpected errors', () => {
  it('answers 500 INTERNAL_ERROR without a stack, and logs the error', async () => {
    const { send, logged } = await start({
      wrapStore: (store) =>
        withMethod(store, 'listRuns', async () => {
          throw new Error('disk on fire')
        }),
    })
    const res = await send('GET', '/api/v1/runs')
    const body = expectApiError(res, 500, 'INTERNAL_ERROR')
    expect(JSON.stringify(body)).not.toContain('disk on fire')
    expect(logged.join('\n')).toContain('disk on fire')
  })

  it('a failing wake-up does not fail a committed write', async () => {
    const { send, logged } = await start({
      wake: () => {
        throw new Error('no listener')
      },
    })
    const res = await send('POST', '/api/v1/flows/hello/runs', {})
    expect(res.status).toBe(201)
    expect(logged.join('\n')).toContain('no listener')
  })
})
