// A 4xx answered to a run's own script is written to that run's log; anyone else's is not.

import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { LogEntry, Run } from '../../db/types.js'
import { runTokens } from '../../security/run-token.js'
import { createHandlerApp, expectApiError, type HandlerApp } from '../support/handler-app.js'

let api: HandlerApp
let run: Run
let token: string

beforeEach(async () => {
  api = await createHandlerApp()
  run = (await api.send('POST', '/api/v1/flows/hello/runs', {})).body as Run
  token = runTokens(await api.store.runTokenKey()).issue(run.id)
})

afterEach(async () => {
  await api.close()
})

async function warnings(): Promise<LogEntry[]> {
  const logs = await api.store.listLogs(run.id, { limit: 1000 })
  if (!logs.ok) throw new Error(logs.code)
  return logs.value.filter((log) => log.level === 'warn')
}

const asScript = () => ({ headers: { 'Content-Type': 'application/json', authorization: `Bearer ${token}` } })
const badStage = { stage: 's', final: true, steps: [{ id: 'a', name: 'no_such_step' }] }

describe("a refused request of the run's own script", () => {
  it('is logged on the run at warn with its code, error and details', async () => {
    const res = await api.send('POST', `/api/v1/runs/${run.id}/steps`, badStage, asScript())
    expect(res.status).toBe(400)
    const [entry, ...more] = await warnings()
    expect(more).toEqual([])
    expect(entry).toMatchObject({ entityType: 'flow', entityId: 'hello' })
    expect(entry?.message).toContain(`POST /api/v1/runs/${run.id}/steps refused: 400`)
    expect(entry?.message).toContain((res.body as { code: string }).code)
    expect(entry?.metadata).toMatchObject({
      refused: {
        status: 400,
        code: (res.body as { code: string }).code,
        details: (res.body as { details: unknown }).details,
      },
    })
  })

  it('names the step of a step route, and covers unknown routes and malformed bodies too', async () => {
    await api.send('POST', `/api/v1/runs/${run.id}/steps/nope/fields`, { fields: { a: 1 } }, asScript())
    await api.send('POST', `/api/v1/runs/${run.id}/feilds`, { fields: { a: 1 } }, asScript())
    await api.send('POST', `/api/v1/runs/${run.id}/logs`, '{"level": "info", "message": ', asScript())
    const logged = await warnings()
    expect(logged.map((log) => [log.entityType, log.entityId])).toEqual(
      expect.arrayContaining([
        ['step', 'nope'],
        ['flow', 'hello'],
      ]),
    )
    expect(logged.map((log) => log.message).join('\n')).toMatch(
      /NOT_FOUND[\s\S]*INVALID_JSON|INVALID_JSON[\s\S]*NOT_FOUND/,
    )
    expect(logged).toHaveLength(3)
  })
})

describe('a refused request of anyone else', () => {
  it('changes nothing, logs included', async () => {
    const before = await api.store.listLogs(run.id, { limit: 1000 })
    expectApiError(
      await api.send('POST', `/api/v1/runs/${run.id}/steps/nope/fields`, { fields: { a: 1 } }),
      400,
      'STEP_NOT_FOUND',
    )
    expect((await api.send('POST', `/api/v1/runs/${run.id}/steps`, badStage)).status).toBe(400)
    expect(await api.store.listLogs(run.id, { limit: 1000 })).toEqual(before)
  })
})
