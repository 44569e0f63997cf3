import { describe, expect, it } from 'vitest'
import type { Refusal, Store } from '../../db/store.js'
import { claimFlowCall, reportExit } from '../support/drive-run.js'
import { testDatabases } from '../support/dialects.js'
import { storePerTest } from '../support/store-per-test.js'

const refusal = (schedule: boolean): Refusal => ({
  method: 'POST',
  path: '/api/v1/runs/r/steps',
  status: 400,
  code: 'STEP_NOT_FOUND',
  error: 'No executable steps/<name>/step.sh',
  details: { name: 'fetch_pricse', reason: 'missing' },
  schedule,
})

describe.each(testDatabases)('refused requests on $name', (database) => {
  let store: Store
  storePerTest(database, (opened) => (store = opened))

  it('fail a run whose flow call exits 0 having scheduled nothing after a refused stage post', async () => {
    const run = await store.createRun({ flowName: 'demo' }, 1)
    const call = await claimFlowCall(store, run.id)
    expect(await store.recordRefusal(run.id, refusal(true), 2)).toBe(true)
    expect(await reportExit(store, call.lease, 0)).toBe(true)
    const ended = await store.getRun(run.id)
    expect(ended).toMatchObject({
      status: 'failed',
      terminationReason: 'schedule_refused',
      error: { reason: 'schedule_refused', code: 'STEP_NOT_FOUND', details: { name: 'fetch_pricse' } },
    })
    const logs = await store.listLogs(run.id, { limit: 100 })
    expect(
      logs.ok && logs.value.some((log) => log.level === 'warn' && log.message.includes('STEP_NOT_FOUND')),
    ).toBe(true)
  })

  it('leave a flow that deliberately schedules nothing completed, and a refused fields post only logged', async () => {
    const run = await store.createRun({ flowName: 'demo' }, 1)
    const call = await claimFlowCall(store, run.id)
    await store.recordRefusal(run.id, { ...refusal(false), stepId: 'a' }, 2)
    expect(await reportExit(store, call.lease, 0)).toBe(true)
    expect(await store.getRun(run.id)).toMatchObject({ status: 'completed' })
  })

  it('answer false for a run that does not exist', async () => {
    expect(await store.recordRefusal('no-such-run', refusal(true), 1)).toBe(false)
  })
})
