import { beforeEach, describe, expect, it } from 'vitest'
import type { Store } from '../../db/store.js'
import { testDatabases } from '../support/dialects.js'
import { storePerTest } from '../support/store-per-test.js'

const LEASE_MS = 30_000

describe.each(testDatabases)('reaping expired leases on $name', (database) => {
  let store: Store
  storePerTest(database, (opened) => (store = opened))
  let runId: string
  let now = 1_000_000
  const tick = () => ++now
  const worker = { workerId: 'test-worker', limit: 100 }

  beforeEach(async () => {
    const run = await store.createRun({ flowName: 'demo' }, tick())
    runId = run.id
  })

  async function scheduleOne(maxRetries: number): Promise<void> {
    const [call] = await store.claimFlowCalls(worker, tick())
    await store.scheduleStage(
      runId,
      { stage: 'one', final: true, steps: [{ id: 'a', name: 's', maxRetries }] },
      tick(),
    )
    await store.recordExit({ lease: call!.lease, exitCode: 0 }, tick())
  }

  it('counts an expired step lease as a failed attempt and retries it', async () => {
    await scheduleOne(1)
    const [first] = await store.claimReadySteps(worker, tick())
    // The supervisor's last heartbeat, then silence: the host died.
    await store.heartbeat('test-worker', [first!.lease], tick())
    expect(await store.reapExpiredLeases(now + LEASE_MS - 1, LEASE_MS)).toBe(0)
    now += LEASE_MS + 1
    expect(await store.reapExpiredLeases(now, LEASE_MS)).toBe(1)

    const step = await store.getStep(runId, 'a')
    expect(step.ok && step.value).toMatchObject({ status: 'pending', retryCount: 1, workerId: null })
    expect(await store.heartbeat('test-worker', [first!.lease], tick())).toEqual({ lost: [first!.lease] })
    expect(await store.recordExit({ lease: first!.lease, exitCode: 0 }, tick())).toEqual({
      accepted: false,
      leasesRevoked: false,
    })

    const [second] = await store.claimReadySteps(worker, tick())
    expect(second?.attempt).toBe(2)
    // No retries left: the next expiry fails the step, the stage, and (after the callback) the run.
    expect(await store.reapExpiredLeases(now + LEASE_MS * 2, LEASE_MS)).toBe(1)
    const failed = await store.getStep(runId, 'a')
    expect(failed.ok && failed.value).toMatchObject({
      status: 'failed',
      terminationReason: 'lease_expired',
      error: { reason: 'lease_expired' },
    })
    expect((await store.getRun(runId))?.stages.map((s) => s.status)).toEqual(['failed'])
  })

  it('queues an expired flow call again', async () => {
    const [call] = await store.claimFlowCalls(worker, tick())
    expect(await store.reapExpiredLeases(now + LEASE_MS * 2, LEASE_MS)).toBe(1)
    const calls = await store.listFlowCalls(runId)
    expect(calls.ok && calls.value.map((c) => [c.status, c.attempt])).toEqual([['queued', 1]])
    expect(await store.recordExit({ lease: call!.lease, exitCode: 0 }, tick())).toEqual({
      accepted: false,
      leasesRevoked: false,
    })
    const [again] = await store.claimFlowCalls(worker, now + LEASE_MS * 2 + 1)
    expect(again?.attempt).toBe(2)
  })

  it('leaves live leases alone', async () => {
    await scheduleOne(0)
    await store.claimReadySteps(worker, tick())
    expect(await store.reapExpiredLeases(tick(), LEASE_MS)).toBe(0)
    const step = await store.getStep(runId, 'a')
    expect(step.ok && step.value.status).toBe('running')
  })
})
