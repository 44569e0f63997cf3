import { beforeEach, describe, expect, it } from 'vitest'
import { parseLease } from '../../db/rules/lease-key.js'
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

  it('re-queues a lost step without spending a retry, then fails it past MAXQ_MAX_LOST_ATTEMPTS', async () => {
    await scheduleOne(0)
    const [first] = await store.claimReadySteps(worker, tick())
    // The supervisor's last heartbeat, then silence: the host died.
    await store.heartbeat('test-worker', [first!.lease], tick())
    expect(await store.reapExpiredLeases(now + LEASE_MS - 1, LEASE_MS, 2)).toBe(0)
    now += LEASE_MS + 1
    expect(await store.reapExpiredLeases(now, LEASE_MS, 2)).toBe(1)

    // maxRetries is 0, and the step is queued again all the same: a crash is not the script's failure.
    const step = await store.getStep(runId, 'a')
    expect(step.ok && step.value).toMatchObject({ status: 'pending', retryCount: 0, workerId: null })
    expect(await store.heartbeat('test-worker', [first!.lease], tick())).toEqual({ lost: [first!.lease] })
    expect(await store.recordExit({ lease: first!.lease, exitCode: 0 }, tick())).toEqual({
      accepted: false,
      leasesRevoked: false,
    })

    const [second] = await store.claimReadySteps(worker, tick())
    expect(second?.attempt).toBe(2)
    now += LEASE_MS * 2
    expect(await store.reapExpiredLeases(now, LEASE_MS, 2)).toBe(1)
    const [third] = await store.claimReadySteps(worker, tick())
    expect(third?.attempt).toBe(3)
    // A third lost attempt is one more than the bound of 2: the step fails, and says why.
    now += LEASE_MS * 2
    expect(await store.reapExpiredLeases(now, LEASE_MS, 2)).toBe(1)
    const failed = await store.getStep(runId, 'a')
    expect(failed.ok && failed.value).toMatchObject({
      status: 'failed',
      retryCount: 0,
      terminationReason: 'lost_attempts_exceeded',
      error: { reason: 'lost_attempts_exceeded', lostAttempts: 3 },
    })
    expect(failed.ok && failed.value.attempts?.map((a) => [a.attempt, a.terminationReason])).toEqual([
      [1, 'lease_expired'],
      [2, 'lease_expired'],
      [3, 'lease_expired'],
    ])
    expect((await store.getRun(runId))?.stages.map((s) => s.status)).toEqual(['failed'])
    const logs = await store.listLogs(runId, { limit: 100 })
    expect(logs.ok && logs.value.some((l) => l.message.includes('MAXQ_MAX_LOST_ATTEMPTS=2'))).toBe(true)
  })

  it('keeps a script failure counting against maxRetries, apart from lost attempts', async () => {
    await scheduleOne(1)
    const [first] = await store.claimReadySteps(worker, tick())
    expect(await store.reapExpiredLeases(now + LEASE_MS * 2, LEASE_MS)).toBe(1)
    now += LEASE_MS * 2
    const [second] = await store.claimReadySteps(worker, tick())
    expect(second?.attempt).toBe(2)
    await store.recordExit({ lease: second!.lease, exitCode: 3, stderr: 'boom' }, tick())
    const retried = await store.getStep(runId, 'a')
    expect(retried.ok && retried.value).toMatchObject({ status: 'pending', retryCount: 1 })
    const [third] = await store.claimReadySteps(worker, tick())
    await store.recordExit({ lease: third!.lease, exitCode: 3 }, tick())
    const failed = await store.getStep(runId, 'a')
    expect(failed.ok && failed.value).toMatchObject({ status: 'failed', terminationReason: 'exit_code' })
    expect(first?.attempt).toBe(1)
  })

  it('reaps the leases it is given at once, whatever their heartbeat, each once', async () => {
    await scheduleOne(0)
    const [first] = await store.claimReadySteps(worker, tick())
    const lease = parseLease(first!.lease)!
    expect(await store.reapLostLeases([lease], tick(), 3)).toBe(1)
    expect(await store.reapLostLeases([lease], tick(), 3)).toBe(0)
    const step = await store.getStep(runId, 'a')
    expect(step.ok && step.value).toMatchObject({ status: 'pending', retryCount: 0 })
  })

  it('queues a lost flow call again, then fails its run past MAXQ_MAX_LOST_ATTEMPTS', async () => {
    const [call] = await store.claimFlowCalls(worker, tick())
    expect(await store.reapExpiredLeases(now + LEASE_MS * 2, LEASE_MS, 1)).toBe(1)
    const calls = await store.listFlowCalls(runId)
    expect(calls.ok && calls.value.map((c) => [c.status, c.attempt])).toEqual([['queued', 1]])
    expect(await store.recordExit({ lease: call!.lease, exitCode: 0 }, tick())).toEqual({
      accepted: false,
      leasesRevoked: false,
    })
    now += LEASE_MS * 2
    const [again] = await store.claimFlowCalls(worker, tick())
    expect(again?.attempt).toBe(2)
    now += LEASE_MS * 2
    expect(await store.reapExpiredLeases(now, LEASE_MS, 1)).toBe(1)
    const run = await store.getRun(runId)
    expect(run).toMatchObject({
      status: 'failed',
      terminationReason: 'lost_attempts_exceeded',
      error: { reason: 'lost_attempts_exceeded', lostAttempts: 2 },
    })
    const ended = await store.listFlowCalls(runId)
    expect(ended.ok && ended.value[0]).toMatchObject({
      status: 'failed',
      terminationReason: 'lost_attempts_exceeded',
      lostAttempts: 2,
    })
    expect(ended.ok && ended.value[0]?.attempts?.map((a) => a.terminationReason)).toEqual([
      'lease_expired',
      'lease_expired',
    ])
  })

  it('leaves live leases alone', async () => {
    await scheduleOne(0)
    await store.claimReadySteps(worker, tick())
    expect(await store.reapExpiredLeases(tick(), LEASE_MS)).toBe(0)
    const step = await store.getStep(runId, 'a')
    expect(step.ok && step.value.status).toBe('running')
  })
})
