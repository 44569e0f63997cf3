import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Run, RunWithStages } from '../../db/types.js'
import { claimFlowCall, completeRun, failRunByFlowExit } from '../support/drive-run.js'
import { createHandlerApp, expectApiError, type HandlerApp } from '../support/handler-app.js'

const everything = { limit: 1000, offset: 0, sortBy: 'createdAt', sortOrder: 'desc' } as const

let api: HandlerApp

beforeEach(async () => {
  api = await createHandlerApp()
})

afterEach(async () => {
  await api.close()
})

async function trigger(flowName = 'hello', body: unknown = {}): Promise<Run> {
  const res = await api.send('POST', `/api/v1/flows/${flowName}/runs`, body)
  expect(res.status).toBe(201)
  return res.body as Run
}

async function runStatus(runId: string): Promise<string | undefined> {
  return (await api.store.getRun(runId))?.status
}

describe('POST /api/v1/flows/:flowName/runs', () => {
  it('records metadata.trigger "api", keeping the caller\'s other keys; other JSON is kept as sent', async () => {
    const merged = await trigger('hello', { metadata: { by: 'test', trigger: 'mine' } })
    expect(merged.metadata).toEqual({ by: 'test', trigger: 'api' })
    expect((await trigger('hello', {})).metadata).toEqual({ trigger: 'api' })
    expect((await trigger('hello', { metadata: ['a', 1] })).metadata).toEqual(['a', 1])
    expect((await trigger('hello', { metadata: 'tag' })).metadata).toBe('tag')
  })

  it('creates a pending run with input and metadata, answers 201 and wakes the scheduler', async () => {
    const run = await trigger('hello', { input: { city: 'Oslo' }, metadata: { by: 'test' } })
    expect(run).toMatchObject({
      flowName: 'hello',
      status: 'pending',
      input: { city: 'Oslo' },
      metadata: { by: 'test' },
    })
    expect(typeof run.id).toBe('string')
    expect(typeof run.createdAt).toBe('number')
    expect(api.wakes()).toBe(1)
    expect(await runStatus(run.id)).toBe('pending')
  })

  it('answers 404 FLOW_NOT_FOUND for an unknown flow and creates nothing', async () => {
    const body = expectApiError(await api.send('POST', '/api/v1/flows/nope/runs', {}), 404, 'FLOW_NOT_FOUND')
    expect(body.details).toEqual({ flowName: 'nope' })
    expect((await api.store.listRuns(everything)).total).toBe(0)
    expect(api.wakes()).toBe(0)
  })

  it('answers 400 INVALID_JSON for a malformed body', async () => {
    expectApiError(await api.send('POST', '/api/v1/flows/hello/runs', '{oops'), 400, 'INVALID_JSON')
  })
})

describe('POST /api/v1/runs', () => {
  it('creates a run of the flow named in the body', async () => {
    const res = await api.send('POST', '/api/v1/runs', { flowName: 'other', input: [1, 2] })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({ flowName: 'other', status: 'pending', input: [1, 2] })
    expect(api.wakes()).toBe(1)
  })

  it('answers 400 VALIDATION_FAILED without a flowName', async () => {
    const body = expectApiError(await api.send('POST', '/api/v1/runs', {}), 400, 'VALIDATION_FAILED')
    expect(body.details).toEqual([{ path: 'flowName', message: expect.any(String) }])
  })

  it('answers 404 FLOW_NOT_FOUND for an unknown or unsafe flow', async () => {
    expectApiError(await api.send('POST', '/api/v1/runs', { flowName: 'nope' }), 404, 'FLOW_NOT_FOUND')
    expectApiError(await api.send('POST', '/api/v1/runs', { flowName: '../hello' }), 404, 'FLOW_NOT_FOUND')
    expect((await api.store.listRuns(everything)).total).toBe(0)
  })
})

describe('GET /api/v1/runs', () => {
  it('lists runs with pagination, filtered by flow and status', async () => {
    for (let i = 0; i < 3; i++) await trigger('hello')
    const other = await trigger('other')
    await failRunByFlowExit(api.store, other.id)

    const all = await api.send('GET', '/api/v1/runs')
    expect(all.status).toBe(200)
    expect(all.body).toMatchObject({ pagination: { total: 4, limit: 20, offset: 0 } })

    const page = await api.send('GET', '/api/v1/runs?limit=2&offset=1')
    const pageBody = page.body as { runs: Run[]; pagination: unknown }
    expect(pageBody.runs).toHaveLength(2)
    expect(pageBody.pagination).toEqual({ total: 4, limit: 2, offset: 1 })

    const byFlow = (await api.send('GET', '/api/v1/runs?flowName=other')).body as { runs: Run[] }
    expect(byFlow.runs.map((r) => r.id)).toEqual([other.id])

    const failed = (await api.send('GET', '/api/v1/runs?status=failed')).body as { runs: Run[] }
    expect(failed.runs.map((r) => r.id)).toEqual([other.id])
  })

  it('sorts by the requested column and order', async () => {
    for (const flow of ['other', 'hello', 'other']) await trigger(flow)
    const asc = (await api.send('GET', '/api/v1/runs?sortBy=flowName&sortOrder=asc')).body as { runs: Run[] }
    expect(asc.runs.map((r) => r.flowName)).toEqual(['hello', 'other', 'other'])
    const desc = (await api.send('GET', '/api/v1/runs?sortBy=createdAt')).body as { runs: Run[] }
    const times = desc.runs.map((r) => r.createdAt)
    expect(times).toEqual([...times].sort((a, b) => b - a))
  })

  it.each([
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['limit=ten', 'limit'],
    ['offset=-1', 'offset'],
    ['status=bogus', 'status'],
    ['sortBy=id', 'sortBy'],
    ['sortOrder=up', 'sortOrder'],
    ['status=failed&status=pending', 'status'],
  ])('answers 400 VALIDATION_FAILED for %s', async (queryString, path) => {
    const body = expectApiError(
      await api.send('GET', `/api/v1/runs?${queryString}`),
      400,
      'VALIDATION_FAILED',
    )
    expect(body.details).toEqual([{ path, message: expect.any(String) }])
  })

  it('accepts limit=100', async () => {
    const res = await api.send('GET', '/api/v1/runs?limit=100')
    expect(res.status).toBe(200)
  })
})

describe('GET /api/v1/runs/:runId', () => {
  it('answers the run with its stages', async () => {
    const run = await trigger()
    const res = await api.send('GET', `/api/v1/runs/${run.id}`)
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ id: run.id, flowName: 'hello', stages: [] })
  })

  it('answers 404 RUN_NOT_FOUND for an unknown run', async () => {
    const body = expectApiError(await api.send('GET', '/api/v1/runs/no-such-run'), 404, 'RUN_NOT_FOUND')
    expect(body.details).toEqual({ runId: 'no-such-run' })
  })

  it('answers 400 VALIDATION_FAILED for a run id longer than 255 characters', async () => {
    expectApiError(await api.send('GET', `/api/v1/runs/${'r'.repeat(256)}`), 400, 'VALIDATION_FAILED')
  })
})

describe('PATCH /api/v1/runs/:runId', () => {
  it('sets name, description and output', async () => {
    const run = await trigger()
    const res = await api.send('PATCH', `/api/v1/runs/${run.id}`, {
      name: 'nightly',
      description: 'the nightly import',
      output: { rows: 3 },
    })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({
      id: run.id,
      name: 'nightly',
      description: 'the nightly import',
      output: { rows: 3 },
    })
    expect(await api.store.getRun(run.id)).toMatchObject({ name: 'nightly', output: { rows: 3 } })
  })

  it('clears a name with null', async () => {
    const run = await trigger()
    await api.send('PATCH', `/api/v1/runs/${run.id}`, { name: 'x' })
    const res = await api.send('PATCH', `/api/v1/runs/${run.id}`, { name: null })
    expect(res.body).toMatchObject({ name: null })
  })

  it('answers 400 VALIDATION_FAILED for an unknown key or a wrong type, and changes nothing', async () => {
    const run = await trigger()
    const unknownKey = await api.send('PATCH', `/api/v1/runs/${run.id}`, { status: 'completed' })
    expect(expectApiError(unknownKey, 400, 'VALIDATION_FAILED').details).toEqual([
      { path: 'status', message: expect.any(String) },
    ])
    expectApiError(await api.send('PATCH', `/api/v1/runs/${run.id}`, { name: 7 }), 400, 'VALIDATION_FAILED')
    expect(await api.store.getRun(run.id)).toMatchObject({ status: 'pending', name: null })
  })

  it('answers 404 RUN_NOT_FOUND for an unknown run', async () => {
    expectApiError(await api.send('PATCH', '/api/v1/runs/nope', { name: 'x' }), 404, 'RUN_NOT_FOUND')
  })
})

describe('POST /api/v1/runs/:runId/abort', () => {
  it('fails the run as aborted, and is idempotent', async () => {
    const run = await trigger()
    const wakesBefore = api.wakes()
    const res = await api.send('POST', `/api/v1/runs/${run.id}/abort`)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      message: expect.any(String),
      processesKilled: expect.any(Number),
      alreadyCompleted: false,
    })
    expect(api.wakes()).toBe(wakesBefore + 1)
    expect(await api.store.getRun(run.id)).toMatchObject({ status: 'failed', terminationReason: 'aborted' })

    const again = await api.send('POST', `/api/v1/runs/${run.id}/abort`)
    expect(again.status).toBe(200)
    expect(again.body).toMatchObject({ alreadyCompleted: true })
  })

  it('answers 404 RUN_NOT_FOUND for an unknown run', async () => {
    expectApiError(await api.send('POST', '/api/v1/runs/nope/abort'), 404, 'RUN_NOT_FOUND')
  })
})

describe('POST /api/v1/runs/:runId/retry', () => {
  it('puts a failed run back to work and answers {run, message} with the run as reset', async () => {
    const run = await trigger()
    await failRunByFlowExit(api.store, run.id)
    expect(await runStatus(run.id)).toBe('failed')
    const wakesBefore = api.wakes()
    const res = await api.send('POST', `/api/v1/runs/${run.id}/retry`)
    expect(res.status).toBe(200)
    const { run: retried, message } = res.body as { run: RunWithStages; message: string }
    expect(retried).toMatchObject({
      id: run.id,
      status: 'pending',
      error: null,
      terminationReason: null,
      completedAt: null,
    })
    expect(Array.isArray(retried.stages)).toBe(true)
    expect(typeof message).toBe('string')
    expect(api.wakes()).toBe(wakesBefore + 1)
    // Its flow is called again: the run stays pending until that call is claimed.
    expect(await runStatus(run.id)).toBe('pending')
  })

  it('answers 409 RUN_STILL_RUNNING while the run is running', async () => {
    const run = await trigger()
    await claimFlowCall(api.store, run.id)
    expectApiError(await api.send('POST', `/api/v1/runs/${run.id}/retry`), 409, 'RUN_STILL_RUNNING')
    expect(await runStatus(run.id)).toBe('running')
  })

  it('answers 400 RUN_COMPLETED for a completed run', async () => {
    const run = await trigger()
    await completeRun(api.store, run.id, 'greet')
    expect(await runStatus(run.id)).toBe('completed')
    expectApiError(await api.send('POST', `/api/v1/runs/${run.id}/retry`), 400, 'RUN_COMPLETED')
    expect(await runStatus(run.id)).toBe('completed')
  })

  it('answers 404 RUN_NOT_FOUND for an unknown run', async () => {
    expectApiError(await api.send('POST', '/api/v1/runs/nope/retry'), 404, 'RUN_NOT_FOUND')
  })
})

describe('POST /api/v1/runs/:runId/pause and /resume', () => {
  it('pauses and resumes a running run', async () => {
    const run = await trigger()
    await claimFlowCall(api.store, run.id)
    const wakesBefore = api.wakes()
    const paused = await api.send('POST', `/api/v1/runs/${run.id}/pause`)
    expect(paused.status).toBe(200)
    expect(paused.body).toMatchObject({ id: run.id, status: 'paused' })
    expect(api.wakes()).toBe(wakesBefore)

    const resumed = await api.send('POST', `/api/v1/runs/${run.id}/resume`)
    expect(resumed.status).toBe(200)
    expect(resumed.body).toMatchObject({ id: run.id, status: 'running' })
    expect(api.wakes()).toBe(wakesBefore + 1)
  })

  it('answers 409 INVALID_STATE when pausing or resuming a finished run', async () => {
    const run = await trigger()
    await failRunByFlowExit(api.store, run.id)
    expectApiError(await api.send('POST', `/api/v1/runs/${run.id}/pause`), 409, 'INVALID_STATE')
    expectApiError(await api.send('POST', `/api/v1/runs/${run.id}/resume`), 409, 'INVALID_STATE')
    expect(await runStatus(run.id)).toBe('failed')
  })

  it('answers 404 RUN_NOT_FOUND for an unknown run', async () => {
    expectApiError(await api.send('POST', '/api/v1/runs/nope/pause'), 404, 'RUN_NOT_FOUND')
    expectApiError(await api.send('POST', '/api/v1/runs/nope/resume'), 404, 'RUN_NOT_FOUND')
  })
})
