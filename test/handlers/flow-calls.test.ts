import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { FlowCall, Run } from '../../db/types.js'
import { claimFlowCall } from '../support/drive-run.js'
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

describe('GET /api/v1/runs/:runId/flow-calls', () => {
  it('lists the flow calls with what each one printed', async () => {
    const queued = await api.send('GET', `/api/v1/runs/${run.id}/flow-calls`)
    expect(queued.status).toBe(200)
    expect((queued.body as { flowCalls: FlowCall[] }).flowCalls).toMatchObject([
      { runId: run.id, flowName: 'hello', status: 'queued', completedStage: null, failedStage: null },
    ])

    const call = await claimFlowCall(api.store, run.id)
    const exit = {
      lease: call.lease,
      exitCode: 3,
      signal: null,
      timedOut: false,
      stdout: 'planned\n',
      stderr: 'oops\n',
      startedAt: 1,
    }
    expect((await api.send('POST', '/api/v1/leases/exit', exit)).status).toBe(200)

    const ended = await api.send('GET', `/api/v1/runs/${run.id}/flow-calls`)
    expect((ended.body as { flowCalls: FlowCall[] }).flowCalls).toMatchObject([
      {
        status: 'failed',
        exitCode: 3,
        stdout: 'planned\n',
        stderr: 'oops\n',
        attempt: 1,
        lostAttempts: 0,
        // Every attempt is kept (issue 17): here the only one.
        attempts: [
          expect.objectContaining({
            attempt: 1,
            exitCode: 3,
            terminationReason: 'exit',
            stdoutTail: 'planned\n',
            stderrTail: 'oops\n',
          }),
        ],
      },
    ])
  })

  it('answers 404 RUN_NOT_FOUND for an unknown run', async () => {
    expectApiError(await api.send('GET', '/api/v1/runs/nope/flow-calls'), 404, 'RUN_NOT_FOUND')
  })
})
