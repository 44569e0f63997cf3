import { describe, expect, it } from 'vitest'
import type { Store } from '../../db/store.js'
import type { ExitReportBody } from '../../runtime/process-job.js'
import { storeSinks } from '../../scheduler/store-sinks.js'
import { testDatabases } from '../support/dialects.js'
import { claimFlowCall, claimStep } from '../support/drive-run.js'
import { storePerTest } from '../support/store-per-test.js'

const exit = (lease: string, exitCode: number): ExitReportBody => ({
  lease,
  exitCode,
  signal: null,
  timedOut: false,
  stdout: 'out\n',
  stderr: '',
  startedAt: 1,
})

describe.each(testDatabases)('store sinks on $name', (database) => {
  let store: Store
  storePerTest(database, (opened) => (store = opened))

  function sinks() {
    const revoked: number[] = []
    const made = storeSinks(store, { now: () => Date.now(), onLeasesRevoked: () => revoked.push(1) })
    return { ...made, revoked }
  }

  /** A run whose first flow call is running and has scheduled one final stage of step `a`. */
  async function runWithOneStep() {
    const run = await store.createRun({ flowName: 'demo' }, Date.now())
    const call = await claimFlowCall(store, run.id)
    const steps = [{ id: 'a', name: 'work' }]
    await store.scheduleStage(run.id, { stage: 'only', final: true, steps }, Date.now())
    return { run, call }
  }

  it('records an exit once: a repeated report is not accepted and changes nothing', async () => {
    const { exit: record, revoked } = sinks()
    const { run, call } = await runWithOneStep()
    expect(await record(exit(call.lease, 0))).toEqual({ accepted: true })
    const step = await claimStep(store, run.id, 'a')
    expect(await record(exit(step.lease, 0))).toEqual({ accepted: true })
    expect(await record(exit(step.lease, 1))).toEqual({ accepted: false })
    expect((await store.getRun(run.id))?.status).toBe('completed')
    expect(await store.getStep(run.id, 'a')).toMatchObject({ ok: true, value: { status: 'completed' } })
    expect(revoked).toEqual([])
  })

  it('says so when an exit took running work away, and the heartbeat then answers it lost', async () => {
    const { exit: record, heartbeat, revoked } = sinks()
    const { run, call } = await runWithOneStep()
    // The step is claimable as soon as its stage is posted, while the flow call still runs.
    const step = await claimStep(store, run.id, 'a')
    expect(await heartbeat({ workerId: 'test-worker', leases: [step.lease] })).toEqual({ lost: [] })

    // The flow then exits non-zero: its run fails, and the running step must be stopped.
    expect(await record(exit(call.lease, 3))).toEqual({ accepted: true })
    expect(revoked).toEqual([1])
    expect((await store.getRun(run.id))?.status).toBe('failed')
    expect(await heartbeat({ workerId: 'test-worker', leases: [step.lease] })).toEqual({ lost: [step.lease] })
  })
})
