import { chmod } from 'node:fs/promises'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createHandlerApp, expectApiError, type HandlerApp } from '../support/handler-app.js'
import { writeFlow } from '../support/temp-flows.js'

let api: HandlerApp

beforeEach(async () => {
  api = await createHandlerApp()
})

afterEach(async () => {
  await api.close()
})

describe('GET /api/v1/flows', () => {
  it('lists discovered flows with their step names and no server paths', async () => {
    const res = await api.send('GET', '/api/v1/flows')
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      flows: [
        { name: 'hello', steps: ['farewell', 'greet'] },
        { name: 'other', steps: ['work'] },
      ],
    })
  })

  it('leaves out a flow whose flow.sh is not executable', async () => {
    const dir = await writeFlow(api.flowsRoot, 'broken', { flow: 'exit 0', steps: {} })
    await chmod(path.join(dir, 'flow.sh'), 0o644)
    const res = await api.send('GET', '/api/v1/flows')
    expect((res.body as { flows: { name: string }[] }).flows.map((f) => f.name)).toEqual(['hello', 'other'])
  })
})

describe('GET /api/v1/flows/:flowName', () => {
  it('answers one flow', async () => {
    const res = await api.send('GET', '/api/v1/flows/other')
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ name: 'other', steps: ['work'] })
  })

  it('answers 404 FLOW_NOT_FOUND for an unknown flow', async () => {
    const body = expectApiError(await api.send('GET', '/api/v1/flows/missing'), 404, 'FLOW_NOT_FOUND')
    expect(body.details).toEqual({ flowName: 'missing' })
  })

  it('answers 404 for a name that would leave FLOWS_ROOT', async () => {
    expectApiError(await api.send('GET', '/api/v1/flows/..%2Fhello'), 404, 'FLOW_NOT_FOUND')
    expectApiError(await api.send('GET', '/api/v1/flows/.hidden'), 404, 'FLOW_NOT_FOUND')
  })
})
