import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { FieldsRow, Run } from '../../db/types.js'
import { createHandlerApp, expectApiError, type HandlerApp } from '../support/handler-app.js'

let api: HandlerApp
let run: Run

beforeEach(async () => {
  api = await createHandlerApp()
  run = (await api.send('POST', '/api/v1/flows/hello/runs', {})).body as Run
  const res = await api.send('POST', `/api/v1/runs/${run.id}/steps`, {
    stage: 'fetch',
    final: false,
    steps: [
      { id: 'a', name: 'greet' },
      { id: 'b', name: 'greet' },
      { id: 'c', name: 'farewell' },
    ],
  })
  expect(res.status).toBe(201)
})

afterEach(async () => {
  await api.close()
})

const post = (stepId: string, body: unknown, runId = run.id) =>
  api.send('POST', `/api/v1/runs/${runId}/steps/${stepId}/fields`, body)

const fieldsOf = async (query: string): Promise<FieldsRow[]> => {
  const res = await api.send('GET', `/api/v1/runs/${run.id}/fields${query}`)
  expect(res.status).toBe(200)
  return (res.body as { fields: FieldsRow[] }).fields
}

describe('POST /api/v1/runs/:runId/steps/:stepId/fields', () => {
  it('merges fields into the step and answers {id, stepId, runId, fields, completedAt}', async () => {
    const first = await post('a', { fields: { count: 1, tags: ['x'] } })
    expect(first.status).toBe(200)
    const at = { id: 'a', stepId: 'a', runId: run.id, completedAt: null }
    expect(first.body).toEqual({ ...at, fields: { count: 1, tags: ['x'] } })
    const second = await post('a', { fields: { count: 2, note: null } })
    expect(second.body).toEqual({ ...at, fields: { count: 2, tags: ['x'], note: null } })
  })

  it('parses the body without a Content-Type (the README’s curl -d example)', async () => {
    const res = await post('a', '{"fields": {"message": "Hello, World!", "timestamp": 1700000000}}')
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ fields: { message: 'Hello, World!' } })
  })

  it.each([
    ['no fields', {}],
    ['fields as an array', { fields: [1] }],
    ['fields as null', { fields: null }],
    ['fields as a string', { fields: 'x' }],
  ])('answers 400 VALIDATION_FAILED for %s and changes nothing', async (_label, body) => {
    const err = expectApiError(await post('a', body), 400, 'VALIDATION_FAILED')
    expect(err.details).toEqual([{ path: 'fields', message: expect.any(String) }])
    expect(await api.store.getStep(run.id, 'a')).toMatchObject({ ok: true, value: { fields: {} } })
  })

  it('answers 400 INVALID_JSON for a malformed body', async () => {
    expectApiError(await post('a', '{"fields": {'), 400, 'INVALID_JSON')
  })

  it('answers 400 STEP_NOT_FOUND for an unknown step', async () => {
    expectApiError(await post('nope', { fields: { x: 1 } }), 400, 'STEP_NOT_FOUND')
  })

  it('answers 404 RUN_NOT_FOUND for an unknown run', async () => {
    expectApiError(await post('a', { fields: { x: 1 } }, 'nope'), 404, 'RUN_NOT_FOUND')
  })
})

describe('GET /api/v1/runs/:runId/fields', () => {
  beforeEach(async () => {
    await post('a', { fields: { score: 1, label: 'first' } })
    await post('b', { fields: { score: 2 } })
    await post('c', { fields: { label: 'third' } })
  })

  it('answers every step’s fields with step, stage and status', async () => {
    const rows = await fieldsOf('')
    expect(rows.map((r) => r.stepId).sort()).toEqual(['a', 'b', 'c'])
    expect(rows.find((r) => r.stepId === 'a')).toMatchObject({
      stepName: 'greet',
      stageName: 'fetch',
      status: 'pending',
      fields: { score: 1, label: 'first' },
      completedAt: null,
    })
  })

  it('filters by one step id, a comma-separated list, or a repeated parameter', async () => {
    expect((await fieldsOf('?stepId=a')).map((r) => r.stepId)).toEqual(['a'])
    expect((await fieldsOf('?stepId=a,c')).map((r) => r.stepId).sort()).toEqual(['a', 'c'])
    expect((await fieldsOf('?stepId=a&stepId=b')).map((r) => r.stepId).sort()).toEqual(['a', 'b'])
    expect((await fieldsOf('?stepId=a,%20b&stepId=c')).map((r) => r.stepId).sort()).toEqual(['a', 'b', 'c'])
  })

  it('filters by field name: only that field, and only steps that have it', async () => {
    const rows = await fieldsOf('?fieldName=label')
    expect(rows.map((r) => [r.stepId, r.fields])).toEqual([
      ['a', { label: 'first' }],
      ['c', { label: 'third' }],
    ])
  })

  it('answers an empty list for an unknown step id', async () => {
    expect(await fieldsOf('?stepId=ghost')).toEqual([])
  })

  it('answers 400 VALIDATION_FAILED for an empty stepId', async () => {
    const err = expectApiError(
      await api.send('GET', `/api/v1/runs/${run.id}/fields?stepId=`),
      400,
      'VALIDATION_FAILED',
    )
    expect(err.details).toEqual([{ path: 'stepId', message: expect.any(String) }])
  })

  it('answers 404 RUN_NOT_FOUND for an unknown run', async () => {
    expectApiError(await api.send('GET', '/api/v1/runs/nope/fields'), 404, 'RUN_NOT_FOUND')
  })
})
