import { chmod, mkdir, writeFile } from 'node:fs/promises'
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
  it('lists discovered flows with their step names and paths relative to the flows root', async () => {
    const res = await api.send('GET', '/api/v1/flows')
    expect(res.status).toBe(200)
    const usable = { usable: true, problem: null, problems: [], schedules: [] }
    expect(res.body).toEqual({
      flows: [
        { name: 'hello', path: 'hello', steps: ['farewell', 'greet'], ...usable },
        { name: 'other', path: 'other', steps: ['work'], ...usable },
      ],
    })
    expect(JSON.stringify(res.body)).not.toContain(api.flowsRoot)
  })

  it('lists a flow whose flow.sh is not executable as unusable, saying why', async () => {
    const dir = await writeFlow(api.flowsRoot, 'broken', { flow: 'exit 0', steps: { fine: 'exit 0' } })
    await chmod(path.join(dir, 'flow.sh'), 0o644)
    const res = await api.send('GET', '/api/v1/flows')
    const flows = (res.body as { flows: { name: string }[] }).flows
    expect(flows.map((f) => f.name)).toEqual(['broken', 'hello', 'other'])
    expect(flows[0]).toEqual({
      name: 'broken',
      path: 'broken',
      steps: ['fine'],
      usable: false,
      problem: { kind: 'not_executable', reason: 'flow.sh is not executable (chmod +x flow.sh)' },
      problems: [{ kind: 'not_executable', reason: 'flow.sh is not executable (chmod +x flow.sh)' }],
      schedules: [],
    })
  })

  it("shows flow.json's schedules with their next slot, and an invalid flow.json as a problem", async () => {
    const schedules = [
      { cron: '0 3 * * *', timezone: 'Europe/Berlin', input: { full: true } },
      { cron: '*/5 * * * * *', catchUp: 'all', overlap: 'allow', enabled: false },
    ]
    await writeFile(path.join(api.flowsRoot, 'hello', 'flow.json'), JSON.stringify({ schedules }))
    await writeFile(path.join(api.flowsRoot, 'other', 'flow.json'), '{"schedules": [{"cron": "* * *"}]}')
    const flows = (await api.send('GET', '/api/v1/flows')).body as { flows: Record<string, unknown>[] }
    expect(flows.flows[0]).toMatchObject({
      name: 'hello',
      usable: true,
      problems: [],
      schedules: [
        {
          index: 0,
          cron: '0 3 * * *',
          timezone: 'Europe/Berlin',
          input: { full: true },
          overlap: 'skip',
          catchUp: 'latest',
          enabled: true,
          nextSlotAt: expect.any(Number),
        },
        { index: 1, catchUp: 'all', overlap: 'allow', enabled: false, nextSlotAt: null },
      ],
    })
    expect(flows.flows[1]).toMatchObject({
      name: 'other',
      usable: true,
      schedules: [],
      problems: [
        {
          kind: 'invalid_flow_json',
          reason: expect.stringContaining('schedules.0.cron: "* * *" has 3 fields'),
        },
      ],
    })
  })
})

describe('GET /api/v1/flows/:flowName', () => {
  it('answers one flow', async () => {
    const res = await api.send('GET', '/api/v1/flows/other')
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      name: 'other',
      path: 'other',
      steps: ['work'],
      usable: true,
      problem: null,
      problems: [],
      schedules: [],
    })
  })

  it('answers 200 with usable: false for a directory without flow.sh', async () => {
    await mkdir(path.join(api.flowsRoot, 'draft'))
    const res = await api.send('GET', '/api/v1/flows/draft')
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({
      name: 'draft',
      usable: false,
      problem: { kind: 'missing', reason: 'flow.sh does not exist' },
    })
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

describe('a trigger of a flow that cannot run', () => {
  it('answers 400 FLOW_NOT_USABLE with the reason, creates nothing, and 404 stays for no directory', async () => {
    const dir = await writeFlow(api.flowsRoot, 'broken', { flow: 'exit 0', steps: {} })
    await chmod(path.join(dir, 'flow.sh'), 0o644)
    for (const res of [
      await api.send('POST', '/api/v1/flows/broken/runs', {}),
      await api.send('POST', '/api/v1/runs', { flowName: 'broken' }),
    ]) {
      const body = expectApiError(res, 400, 'FLOW_NOT_USABLE')
      expect(body.details).toEqual({
        flowName: 'broken',
        kind: 'not_executable',
        reason: 'flow.sh is not executable (chmod +x flow.sh)',
      })
      expect(body.error).toContain('flow.sh is not executable')
    }
    expect(api.wakes()).toBe(0)
    const runs = await api.store.listRuns({ limit: 10, offset: 0, sortBy: 'createdAt', sortOrder: 'desc' })
    expect(runs.total).toBe(0)
    expectApiError(await api.send('POST', '/api/v1/flows/absent/runs', {}), 404, 'FLOW_NOT_FOUND')
  })
})
