import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { LogEntry, Run } from '../../db/types.js'
import { createHandlerApp, expectApiError, type HandlerApp } from '../support/handler-app.js'

let api: HandlerApp
let run: Run

beforeEach(async () => {
  api = await createHandlerApp()
  run = (await api.send('POST', '/api/v1/flows/hello/runs', {})).body as Run
})

afterEach(async () => {
  await api.close()
})

const create = (body: unknown, runId = run.id) => api.send('POST', `/api/v1/runs/${runId}/logs`, body)

const list = async (query = ''): Promise<LogEntry[]> => {
  const res = await api.send('GET', `/api/v1/runs/${run.id}/logs${query}`)
  expect(res.status).toBe(200)
  return (res.body as { logs: LogEntry[] }).logs
}

/** Entries written through the API (the store also writes system events). */
const mine = (logs: LogEntry[]) => logs.filter((l) => l.message.startsWith('test:'))

describe('POST /api/v1/runs/:runId/logs', () => {
  it('creates an entry, level info by default, and answers 201 with it', async () => {
    const res = await create({ message: 'test: hello' })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({ runId: run.id, level: 'info', message: 'test: hello' })
    expect(typeof (res.body as LogEntry).id).toBe('string')
    expect(typeof (res.body as LogEntry).createdAt).toBe('number')
  })

  it('stores level, entity and metadata', async () => {
    const res = await create({
      level: 'warn',
      message: 'test: slow',
      entityType: 'step',
      entityId: 'greet-1',
      metadata: { ms: 1200 },
    })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({
      level: 'warn',
      entityType: 'step',
      entityId: 'greet-1',
      metadata: { ms: 1200 },
    })
  })

  it.each([
    ['no message', {}, 'message'],
    ['an empty message', { message: '' }, 'message'],
    ['an unknown level', { message: 'test: x', level: 'fatal' }, 'level'],
    ['a numeric entityId', { message: 'test: x', entityId: 3 }, 'entityId'],
    ['an unknown entityType', { message: 'test: x', entityType: 'job' }, 'entityType'],
  ])('answers 400 VALIDATION_FAILED for %s and writes nothing', async (_label, body, path) => {
    const err = expectApiError(await create(body), 400, 'VALIDATION_FAILED')
    expect(err.details).toEqual([{ path, message: expect.any(String) }])
    expect(mine(await list())).toEqual([])
  })

  it('answers 404 RUN_NOT_FOUND for an unknown run', async () => {
    expectApiError(await create({ message: 'test: x' }, 'nope'), 404, 'RUN_NOT_FOUND')
  })
})

describe('GET /api/v1/runs/:runId/logs', () => {
  beforeEach(async () => {
    await create({ message: 'test: one', level: 'debug' })
    await create({ message: 'test: two', level: 'error', entityType: 'step', entityId: 'a' })
    await create({ message: 'test: three', level: 'error', entityType: 'step', entityId: 'b' })
  })

  it('lists the run’s entries, newest first', async () => {
    expect(mine(await list()).map((l) => l.message)).toEqual(['test: three', 'test: two', 'test: one'])
  })

  it('filters by level, entityType and entityId', async () => {
    expect(
      mine(await list('?level=error'))
        .map((l) => l.message)
        .sort(),
    ).toEqual(['test: three', 'test: two'])
    expect(mine(await list('?entityType=step&entityId=a')).map((l) => l.message)).toEqual(['test: two'])
  })

  it('honours limit, keeping the newest', async () => {
    expect((await list('?limit=1')).map((l) => l.message)).toEqual(['test: three'])
  })

  it.each([['limit=0'], ['limit=1001'], ['limit=x'], ['level=fatal'], ['entityType=job']])(
    'answers 400 VALIDATION_FAILED for %s',
    async (queryString) => {
      expectApiError(
        await api.send('GET', `/api/v1/runs/${run.id}/logs?${queryString}`),
        400,
        'VALIDATION_FAILED',
      )
    },
  )

  it('answers 404 RUN_NOT_FOUND for an unknown run', async () => {
    expectApiError(await api.send('GET', '/api/v1/runs/nope/logs'), 404, 'RUN_NOT_FOUND')
  })
})
