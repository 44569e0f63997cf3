// Authentication and run tokens through the whole app (app.request, real SQLite): who may call
// what, and that a refused request changes nothing.

import { afterEach, describe, expect, it } from 'vitest'
import type { Run } from '../../db/types.js'
import { runTokens } from '../../security/run-token.js'
import { DEFAULT_RUN_END_GRACE_MS } from '../../db/sql-store.js'
import { failRunByFlowExit } from '../support/drive-run.js'
import { createHandlerApp, expectApiError, type HandlerApp } from '../support/handler-app.js'

const API_TOKEN = 'test-api-token-0123456789abcdef'

let api: HandlerApp
afterEach(async () => {
  await api.close()
})

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

async function trigger(headers: Record<string, string>): Promise<Run> {
  const res = await api.send(
    'POST',
    '/api/v1/flows/hello/runs',
    {},
    {
      headers: { 'Content-Type': 'application/json', ...headers },
    },
  )
  expect(res.status).toBe(201)
  return res.body as Run
}

async function tokenFor(runId: string): Promise<string> {
  return runTokens(await api.store.runTokenKey()).issue(runId)
}

async function runCount(): Promise<number> {
  return (await api.store.listRuns({ limit: 100, offset: 0, sortBy: 'createdAt', sortOrder: 'desc' })).total
}

describe('with MAXQ_API_TOKEN', () => {
  it('answers /health without a token', async () => {
    api = await createHandlerApp({ apiToken: API_TOKEN })
    expect((await api.send('GET', '/health')).status).toBe(200)
    expect((await api.send('GET', '/api/v1/health')).status).toBe(200)
  })

  it.each([
    ['no header', {}],
    ['a wrong token', bearer('not-the-token')],
    ['the token without Bearer', { authorization: API_TOKEN }],
    ['another scheme', { authorization: `Basic ${API_TOKEN}` }],
    ['the token with a suffix', bearer(`${API_TOKEN}x`)],
    ['a prefix of the token', bearer(API_TOKEN.slice(0, -1))],
    ['an empty bearer', { authorization: 'Bearer ' }],
  ])('refuses %s with 401 UNAUTHORIZED and changes nothing', async (_, headers) => {
    api = await createHandlerApp({ apiToken: API_TOKEN })
    const res = await api.send(
      'POST',
      '/api/v1/flows/hello/runs',
      {},
      {
        headers: { 'Content-Type': 'application/json', ...headers },
      },
    )
    expectApiError(res, 401, 'UNAUTHORIZED')
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/)
    expect(await runCount()).toBe(0)
    expectApiError(await api.send('GET', '/api/v1/runs', undefined, { headers }), 401, 'UNAUTHORIZED')
    expectApiError(await api.send('GET', '/api/v1/flows', undefined, { headers }), 401, 'UNAUTHORIZED')
    expectApiError(
      await api.send('GET', '/api/v1/no-such-route', undefined, { headers }),
      401,
      'UNAUTHORIZED',
    )
  })

  it('lets the API token do anything, with the scheme in any case', async () => {
    api = await createHandlerApp({ apiToken: API_TOKEN })
    const run = await trigger(bearer(API_TOKEN))
    const lower = { authorization: `bearer ${API_TOKEN}` }
    expect((await api.send('GET', `/api/v1/runs/${run.id}`, undefined, { headers: lower })).status).toBe(200)
    expect((await api.send('GET', '/api/v1/flows', undefined, { headers: lower })).status).toBe(200)
  })

  it("holds a run token to its own run's endpoints while the run is open", async () => {
    api = await createHandlerApp({ apiToken: API_TOKEN })
    const mine = await trigger(bearer(API_TOKEN))
    const other = await trigger(bearer(API_TOKEN))
    const headers = { 'Content-Type': 'application/json', ...bearer(await tokenFor(mine.id)) }

    expect((await api.send('GET', `/api/v1/runs/${mine.id}`, undefined, { headers })).status).toBe(200)
    const logged = await api.send(
      'POST',
      `/api/v1/runs/${mine.id}/logs`,
      { level: 'info', message: 'hi' },
      { headers },
    )
    expect(logged.status).toBe(201)

    const before = await api.store.getRun(other.id)
    for (const [method, path, body] of [
      ['GET', `/api/v1/runs/${other.id}`, undefined],
      ['POST', `/api/v1/runs/${other.id}/abort`, undefined],
      ['POST', `/api/v1/runs/${other.id}/logs`, { level: 'info', message: 'intruder' }],
      [
        'POST',
        `/api/v1/runs/${other.id}/steps`,
        { stage: 's', final: true, steps: [{ id: 'a', name: 'greet' }] },
      ],
      ['GET', '/api/v1/runs', undefined],
      ['POST', '/api/v1/runs', { flowName: 'hello' }],
      ['POST', '/api/v1/flows/hello/runs', {}],
      ['GET', '/api/v1/flows', undefined],
      ['POST', '/api/v1/leases/heartbeat', { workerId: 'w', leases: [] }],
      ['GET', `/api/v1/runs/${encodeURIComponent(`${mine.id}/../${other.id}`)}`, undefined],
    ] as const) {
      const res = await api.send(method, path, body, { headers })
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 403 })
      expectApiError(res, 403, 'FORBIDDEN')
    }
    expect(await api.store.getRun(other.id)).toEqual(before)
    expect(await runCount()).toBe(2)
    const otherLogs = await api.store.listLogs(other.id, { limit: 100 })
    expect(otherLogs.ok && otherLogs.value.map((log) => log.message)).not.toContain('intruder')
  })

  it('takes a run token for the run-end grace after its run ended, as without a token, then stops', async () => {
    let now = Date.now()
    api = await createHandlerApp({ apiToken: API_TOKEN, clock: { now: () => now } })
    const run = await trigger(bearer(API_TOKEN))
    const headers = bearer(await tokenFor(run.id))
    expect((await api.send('GET', `/api/v1/runs/${run.id}`, undefined, { headers })).status).toBe(200)
    await failRunByFlowExit(api.store, run.id)
    // A flow call that outlives its run gets what it would get without MAXQ_API_TOKEN.
    expect((await api.send('GET', `/api/v1/runs/${run.id}`, undefined, { headers })).status).toBe(200)
    const late = await api.send(
      'POST',
      `/api/v1/runs/${run.id}/steps`,
      { stage: 'late', final: true, steps: [{ id: 'g', name: 'greet' }] },
      { headers: { ...headers, 'Content-Type': 'application/json' } },
    )
    expectApiError(late, 409, 'RUN_NOT_ACTIVE')
    now = ((await api.store.getRun(run.id))?.completedAt ?? 0) + DEFAULT_RUN_END_GRACE_MS
    const res = await api.send('GET', `/api/v1/runs/${run.id}`, undefined, { headers })
    expectApiError(res, 401, 'UNAUTHORIZED')
    expect((res.body as { details?: { reason?: string } }).details?.reason).toBe('run_ended')
    expect(
      (await api.send('GET', `/api/v1/runs/${run.id}`, undefined, { headers: bearer(API_TOKEN) })).status,
    ).toBe(200)
  })

  it('refuses a forged or altered run token', async () => {
    api = await createHandlerApp({ apiToken: API_TOKEN })
    const run = await trigger(bearer(API_TOKEN))
    const real = await tokenFor(run.id)
    const forged = runTokens('another-installation').issue(run.id)
    const tampered = `${real.slice(0, -2)}${real.endsWith('AA') ? 'BB' : 'AA'}`
    for (const token of [forged, tampered, `${real}.x`, 'maxq-run.', 'maxq-run..']) {
      expectApiError(
        await api.send('GET', `/api/v1/runs/${run.id}`, undefined, { headers: bearer(token) }),
        401,
        'UNAUTHORIZED',
      )
    }
  })
})

describe('without MAXQ_API_TOKEN', () => {
  it('serves requests without a header, and still holds a run token to its run', async () => {
    api = await createHandlerApp()
    const mine = await trigger({})
    const other = await trigger({})
    expect((await api.send('GET', `/api/v1/runs/${other.id}`)).status).toBe(200)
    const headers = bearer(await tokenFor(mine.id))
    expect((await api.send('GET', `/api/v1/runs/${mine.id}`, undefined, { headers })).status).toBe(200)
    expectApiError(
      await api.send('POST', `/api/v1/runs/${other.id}/abort`, undefined, { headers }),
      403,
      'FORBIDDEN',
    )
    expect((await api.store.getRun(other.id))?.status).toBe('pending')
    // Any other bearer value means nothing when the API is open.
    expect((await api.send('GET', '/api/v1/runs', undefined, { headers: bearer('whatever') })).status).toBe(
      200,
    )
  })
})
