import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Run, Step } from '../../db/types.js'
import { claimFlowCall, claimStep, reportExit } from '../support/drive-run.js'
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

async function scheduleGreeting(): Promise<void> {
  const res = await api.send('POST', `/api/v1/runs/${run.id}/steps`, {
    stage: 'greeting',
    final: false,
    steps: [
      { id: 'greet-1', name: 'greet' },
      { id: 'bye-1', name: 'farewell', dependsOn: ['greet-1'] },
    ],
  })
  expect(res.status).toBe(201)
}

/** greet-1 runs once and exits 1 (maxRetries 0): it is failed for good. */
async function failGreetStep(): Promise<void> {
  const call = await claimFlowCall(api.store, run.id)
  await scheduleGreeting()
  await reportExit(api.store, call.lease, 0)
  const step = await claimStep(api.store, run.id, 'greet-1')
  await reportExit(api.store, step.lease, 1)
}

describe('GET /api/v1/runs/:runId/steps', () => {
  it('lists the run’s steps', async () => {
    await scheduleGreeting()
    const res = await api.send('GET', `/api/v1/runs/${run.id}/steps`)
    expect(res.status).toBe(200)
    const steps = (res.body as { steps: Step[] }).steps
    expect(steps.map((s) => s.id).sort()).toEqual(['bye-1', 'greet-1'])
    expect(steps[0]).toMatchObject({ runId: run.id, stage: 'greeting', status: 'pending', exitCode: null })
  })

  it('answers an empty list for a run with no steps yet', async () => {
    const res = await api.send('GET', `/api/v1/runs/${run.id}/steps`)
    expect(res.body).toEqual({ steps: [], pagination: { total: 0, limit: 100, offset: 0 } })
  })

  it('filters by stage, status and name, and pages in the order the steps were scheduled', async () => {
    await scheduleGreeting()
    const ids = async (query: string) => {
      const res = await api.send('GET', `/api/v1/runs/${run.id}/steps${query}`)
      expect(res.status).toBe(200)
      return (res.body as { steps: Step[] }).steps.map((s) => s.id)
    }
    expect(await ids('')).toEqual(['greet-1', 'bye-1'])
    expect(await ids('?sortOrder=desc')).toEqual(['bye-1', 'greet-1'])
    expect(await ids('?name=farewell')).toEqual(['bye-1'])
    expect(await ids('?stage=greeting&status=pending')).toEqual(['greet-1', 'bye-1'])
    expect(await ids('?stage=other')).toEqual([])
    expect(await ids('?status=running')).toEqual([])
    const page = await api.send('GET', `/api/v1/runs/${run.id}/steps?limit=1&offset=1`)
    expect(page.body).toMatchObject({ pagination: { total: 2, limit: 1, offset: 1 } })
    expect((page.body as { steps: Step[] }).steps.map((s) => s.id)).toEqual(['bye-1'])
  })

  it.each([['status=bogus'], ['limit=0'], ['limit=1001'], ['sortBy=id'], ['sortOrder=up'], ['offset=-1']])(
    'answers 400 VALIDATION_FAILED for %s',
    async (queryString) => {
      expectApiError(
        await api.send('GET', `/api/v1/runs/${run.id}/steps?${queryString}`),
        400,
        'VALIDATION_FAILED',
      )
    },
  )

  it('answers 404 RUN_NOT_FOUND for an unknown run', async () => {
    expectApiError(await api.send('GET', '/api/v1/runs/nope/steps'), 404, 'RUN_NOT_FOUND')
  })
})

describe('GET /api/v1/runs/:runId/steps/:stepId', () => {
  it('answers one step', async () => {
    await scheduleGreeting()
    const res = await api.send('GET', `/api/v1/runs/${run.id}/steps/bye-1`)
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({
      id: 'bye-1',
      name: 'farewell',
      dependsOn: ['greet-1'],
      status: 'pending',
    })
  })

  it('lists every finished attempt, oldest first, beside the step (issue 17)', async () => {
    const call = await claimFlowCall(api.store, run.id)
    const res = await api.send('POST', `/api/v1/runs/${run.id}/steps`, {
      stage: 'greeting',
      final: true,
      steps: [{ id: 'greet-1', name: 'greet', maxRetries: 1 }],
    })
    expect(res.status).toBe(201)
    await reportExit(api.store, call.lease, 0)
    const first = await claimStep(api.store, run.id, 'greet-1')
    await api.store.recordExit({ lease: first.lease, exitCode: 2, stderr: 'no greeting today' }, Date.now())
    const second = await claimStep(api.store, run.id, 'greet-1')
    await api.store.recordExit({ lease: second.lease, exitCode: 0, stdout: 'hi' }, Date.now())

    const got = await api.send('GET', `/api/v1/runs/${run.id}/steps/greet-1`)
    expect(got.status).toBe(200)
    const step = got.body as Step
    expect(step).toMatchObject({ status: 'completed', retryCount: 1, lostAttempts: 0, stdout: 'hi' })
    expect(step.attempts).toEqual([
      {
        attempt: 1,
        workerId: expect.any(String),
        startedAt: expect.any(Number),
        endedAt: expect.any(Number),
        exitCode: 2,
        signal: null,
        terminationReason: 'exit',
        stdoutTail: null,
        stderrTail: 'no greeting today',
      },
      expect.objectContaining({ attempt: 2, exitCode: 0, terminationReason: 'exit', stdoutTail: 'hi' }),
    ])
  })

  it('answers 404 STEP_NOT_FOUND for an unknown step', async () => {
    expectApiError(await api.send('GET', `/api/v1/runs/${run.id}/steps/nope`), 404, 'STEP_NOT_FOUND')
  })

  it('answers 404 RUN_NOT_FOUND for an unknown run', async () => {
    expectApiError(await api.send('GET', '/api/v1/runs/nope/steps/greet-1'), 404, 'RUN_NOT_FOUND')
  })
})

describe('POST /api/v1/runs/:runId/steps/:stepId/retry', () => {
  it('puts a failed step back to pending and wakes the scheduler', async () => {
    await failGreetStep()
    expect(await api.store.getStep(run.id, 'greet-1')).toMatchObject({
      ok: true,
      value: { status: 'failed' },
    })
    const wakesBefore = api.wakes()
    const res = await api.send('POST', `/api/v1/runs/${run.id}/steps/greet-1/retry`)
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ id: 'greet-1', status: 'pending' })
    expect(api.wakes()).toBe(wakesBefore + 1)
  })

  it('answers 409 STEP_NOT_FAILED for a step that has not failed', async () => {
    await scheduleGreeting()
    expectApiError(
      await api.send('POST', `/api/v1/runs/${run.id}/steps/greet-1/retry`),
      409,
      'STEP_NOT_FAILED',
    )
    expect(await api.store.getStep(run.id, 'greet-1')).toMatchObject({
      ok: true,
      value: { status: 'pending' },
    })
  })

  it('answers 409 INVALID_STATE for a step of an aborted run', async () => {
    await failGreetStep()
    expect((await api.send('POST', `/api/v1/runs/${run.id}/abort`)).status).toBe(200)
    expectApiError(await api.send('POST', `/api/v1/runs/${run.id}/steps/greet-1/retry`), 409, 'INVALID_STATE')
  })

  it('answers 400 STEP_NOT_FOUND for an unknown step', async () => {
    expectApiError(await api.send('POST', `/api/v1/runs/${run.id}/steps/nope/retry`), 400, 'STEP_NOT_FOUND')
  })

  it('answers 404 RUN_NOT_FOUND for an unknown run', async () => {
    expectApiError(await api.send('POST', '/api/v1/runs/nope/steps/greet-1/retry'), 404, 'RUN_NOT_FOUND')
  })
})
