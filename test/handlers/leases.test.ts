// The supervisor's two internal endpoints: exit reports (fenced by the lease's attempt) and
// heartbeats.

import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ExitReportBody } from '../../runtime/process-job.js'
import type { Run } from '../../db/types.js'
import { claimFlowCall, claimStep } from '../support/drive-run.js'
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

const exitReport = (lease: string, exitCode: number | null): ExitReportBody => ({
  lease,
  exitCode,
  signal: null,
  timedOut: false,
  stdout: 'out',
  stderr: '',
  startedAt: Date.now(),
})

describe('POST /api/v1/leases/exit', () => {
  it('accepts the report of a live lease once, and wakes the scheduler', async () => {
    const call = await claimFlowCall(api.store, run.id)
    const wakesBefore = api.wakes()
    const res = await api.send('POST', '/api/v1/leases/exit', exitReport(call.lease, 1))
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ accepted: true })
    // The end wakes the tick ('work'); nothing else was running, so no lease check ('abort').
    expect(api.wakes()).toBe(wakesBefore + 1)
    expect(await api.store.getRun(run.id)).toMatchObject({ status: 'failed' })

    // A duplicate (the supervisor retried a delivered report) changes nothing.
    const again = await api.send('POST', '/api/v1/leases/exit', exitReport(call.lease, 0))
    expect(again.status).toBe(200)
    expect(again.body).toEqual({ accepted: false })
    expect(api.wakes()).toBe(wakesBefore + 1)
    expect(await api.store.getRun(run.id)).toMatchObject({ status: 'failed' })
  })

  it('wakes the supervisors lease check when a failed flow call stops a running step', async () => {
    const call = await claimFlowCall(api.store, run.id)
    const stage = { stage: 'one', final: true, steps: [{ id: 'greet', name: 'greet' }] }
    expect((await api.send('POST', `/api/v1/runs/${run.id}/steps`, stage)).status).toBe(201)
    await claimStep(api.store, run.id, 'greet')
    const wakesBefore = api.wakes()
    const res = await api.send('POST', '/api/v1/leases/exit', exitReport(call.lease, 1))
    expect(res.body).toEqual({ accepted: true })
    // 'work' for the tick, 'abort' so the step's supervisor learns at once that its lease is gone.
    expect(api.wakes()).toBe(wakesBefore + 2)
    const steps = await api.send('GET', `/api/v1/runs/${run.id}/steps`)
    expect(JSON.stringify(steps.body)).toContain('"status":"failed"')
  })

  it('answers {accepted: false} for a lease that never existed', async () => {
    const res = await api.send('POST', '/api/v1/leases/exit', exitReport(`flow/${run.id}/999/1`, 0))
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ accepted: false })
  })

  it('accepts a report killed by a signal (exitCode null)', async () => {
    const call = await claimFlowCall(api.store, run.id)
    const res = await api.send('POST', '/api/v1/leases/exit', {
      ...exitReport(call.lease, null),
      signal: 'SIGKILL',
    })
    expect(res.body).toEqual({ accepted: true })
  })

  it.each([
    ['no lease', { ...exitReport('x', 0), lease: undefined }, 'lease'],
    ['an empty lease', exitReport('', 0), 'lease'],
    ['a fractional exit code', exitReport('x', 1.5), 'exitCode'],
    ['a string timedOut', { ...exitReport('x', 0), timedOut: 'no' }, 'timedOut'],
    ['no stdout', { ...exitReport('x', 0), stdout: undefined }, 'stdout'],
  ])('answers 400 VALIDATION_FAILED for %s', async (_label, body, path) => {
    const err = expectApiError(await api.send('POST', '/api/v1/leases/exit', body), 400, 'VALIDATION_FAILED')
    expect(err.details).toEqual([{ path, message: expect.any(String) }])
  })

  it('answers 400 INVALID_JSON for a malformed body', async () => {
    expectApiError(await api.send('POST', '/api/v1/leases/exit', '{"lease":'), 400, 'INVALID_JSON')
  })
})

describe('POST /api/v1/leases/heartbeat', () => {
  it('renews live leases and answers the lost ones', async () => {
    const call = await claimFlowCall(api.store, run.id)
    const stale = `flow/${run.id}/999/1`
    const res = await api.send('POST', '/api/v1/leases/heartbeat', {
      workerId: 'test-worker',
      leases: [call.lease, stale],
    })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ lost: [stale] })
  })

  it('answers an empty list for no leases', async () => {
    const res = await api.send('POST', '/api/v1/leases/heartbeat', { workerId: 'w', leases: [] })
    expect(res.body).toEqual({ lost: [] })
  })

  it.each([
    ['no workerId', { leases: [] }, 'workerId'],
    ['leases not a list', { workerId: 'w', leases: 'a' }, 'leases'],
    ['a non-string lease', { workerId: 'w', leases: [1] }, 'leases.0'],
  ])('answers 400 VALIDATION_FAILED for %s', async (_label, body, path) => {
    const err = expectApiError(
      await api.send('POST', '/api/v1/leases/heartbeat', body),
      400,
      'VALIDATION_FAILED',
    )
    expect(err.details).toEqual([{ path, message: expect.any(String) }])
  })
})
