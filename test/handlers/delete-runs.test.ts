// DELETE /api/v1/runs/:runId and POST /api/v1/runs/prune (issue 18, retention), on both databases,
// through app.request() with a fixed clock.

import { afterEach, describe, expect, it } from 'vitest'
import { runTokens } from '../../security/run-token.js'
import { testDatabases } from '../support/dialects.js'
import { claimFlowCall, failRunByFlowExit } from '../support/drive-run.js'
import { createHandlerApp, expectApiError, type HandlerApp } from '../support/handler-app.js'

const API_TOKEN = 'operator-secret-token'
const NOW = Date.UTC(2026, 0, 1)

describe.each(testDatabases)('deleting runs through the API on $name', (database) => {
  let api: HandlerApp
  afterEach(async () => api.close())

  const open = (apiToken?: string) =>
    createHandlerApp({ database, clock: { now: () => NOW }, ...(apiToken ? { apiToken } : {}) })
  const auth = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } })
  /** A run aborted (failed) at `at`, by the store directly. */
  const finishedAt = async (at: number, flowName = 'hello'): Promise<string> => {
    const { id } = await api.store.createRun({ flowName }, at - 1)
    expect((await api.store.abortRun(id, at)).ok).toBe(true)
    return id
  }

  it('DELETE deletes a finished run, 409 for an open one, 404 for an unknown one', async () => {
    api = await open()
    const done = await finishedAt(NOW - 5)
    const failed = (await api.store.createRun({ flowName: 'hello' }, NOW)).id
    await failRunByFlowExit(api.store, failed)
    const pending = (await api.store.createRun({ flowName: 'hello' }, NOW)).id

    const res = await api.send('DELETE', `/api/v1/runs/${done}`)
    expect(res).toMatchObject({ status: 200, body: { deleted: true, id: done } })
    expect(await api.store.getRun(done)).toBeNull()
    expectApiError(await api.send('DELETE', `/api/v1/runs/${done}`), 404, 'RUN_NOT_FOUND')
    expect((await api.send('DELETE', `/api/v1/runs/${failed}`)).status).toBe(200)

    const refused = expectApiError(
      await api.send('DELETE', `/api/v1/runs/${pending}`),
      409,
      'RUN_NOT_FINISHED',
    )
    expect(refused.details).toEqual({ runId: pending, status: 'pending' })
    expect((await api.store.getRun(pending))?.status).toBe('pending')
  })

  it('refuses a run token, even on its own run, and needs the API token', async () => {
    api = await open(API_TOKEN)
    const run = (await api.store.createRun({ flowName: 'hello' }, NOW)).id
    await claimFlowCall(api.store, run)
    const token = runTokens(await api.store.runTokenKey()).issue(run)
    expectApiError(await api.send('DELETE', `/api/v1/runs/${run}`, undefined, auth(token)), 403, 'FORBIDDEN')
    expectApiError(
      await api.send('POST', '/api/v1/runs/prune', { olderThanMs: 0 }, auth(token)),
      403,
      'FORBIDDEN',
    )
    expectApiError(await api.send('DELETE', `/api/v1/runs/${run}`), 401, 'UNAUTHORIZED')
    expectApiError(await api.send('POST', '/api/v1/runs/prune', { olderThanMs: 0 }), 401, 'UNAUTHORIZED')
    expect(await api.store.getRun(run)).not.toBeNull()

    const done = await finishedAt(NOW - 5)
    expect((await api.send('DELETE', `/api/v1/runs/${done}`, undefined, auth(API_TOKEN))).status).toBe(200)
  })

  it('refuses a run token on its own finished run on an open API too', async () => {
    api = await open()
    const done = await finishedAt(NOW - 5)
    const token = runTokens(await api.store.runTokenKey()).issue(done)
    expectApiError(await api.send('DELETE', `/api/v1/runs/${done}`, undefined, auth(token)), 403, 'FORBIDDEN')
    expect(await api.store.getRun(done)).not.toBeNull()
  })

  it('POST /runs/prune deletes a bounded batch of runs finished before the cut-off', async () => {
    api = await open()
    const day = 86_400_000
    const old = [
      await finishedAt(NOW - 40 * day),
      await finishedAt(NOW - 35 * day),
      await finishedAt(NOW - 31 * day),
    ]
    const otherFlow = await finishedAt(NOW - 32 * day, 'other')
    const recent = await finishedAt(NOW - day)
    const pending = (await api.store.createRun({ flowName: 'hello' }, NOW - 50 * day)).id
    const olderThanMs = 30 * day

    const dry = await api.send('POST', '/api/v1/runs/prune', {
      olderThanMs,
      flowName: 'hello',
      dryRun: true,
      limit: 2,
    })
    expect(dry).toMatchObject({
      status: 200,
      body: {
        deleted: 0,
        runIds: old.slice(0, 2),
        matched: 3,
        dryRun: true,
        finishedBefore: NOW - olderThanMs,
      },
    })
    expect(await api.store.getRun(old[0]!)).not.toBeNull()

    const first = await api.send('POST', '/api/v1/runs/prune', { olderThanMs, flowName: 'hello', limit: 2 })
    expect(first.body).toMatchObject({ deleted: 2, runIds: old.slice(0, 2), dryRun: false })
    const second = await api.send('POST', '/api/v1/runs/prune', { finishedBefore: NOW - olderThanMs })
    expect(second.body).toMatchObject({ deleted: 2, runIds: [old[2], otherFlow] })
    const third = await api.send('POST', '/api/v1/runs/prune', { olderThanMs })
    expect(third.body).toMatchObject({ deleted: 0, runIds: [] })

    expect(await api.store.getRun(recent)).not.toBeNull()
    expect(await api.store.getRun(pending)).not.toBeNull()
  })

  it('POST /runs/prune validates its body', async () => {
    api = await open()
    for (const body of [
      {},
      { olderThanMs: 1, finishedBefore: 1 },
      { olderThanMs: -1 },
      { olderThanMs: 1.5 },
      { olderThanMs: '30d' },
      { olderThanMs: 1, limit: 0 },
      { olderThanMs: 1, limit: 1001 },
      { olderThanMs: 1, dryRun: 'yes' },
      { olderThanMs: 1, flowName: '' },
      { olderThanMs: 1, older: 2 },
    ]) {
      expectApiError(await api.send('POST', '/api/v1/runs/prune', body), 400, 'VALIDATION_FAILED')
    }
  })
})
