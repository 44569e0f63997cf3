// Issue 17: every attempt of a step or flow call is kept (the attempts table); lost work goes back
// to the front of the queue; a step's retry delay (fixed or exponential) decides when it is claimable.

import { describe, expect, it } from 'vitest'
import { RETRY_JITTER } from '../../db/rules/decide-attempt.js'
import { ATTEMPT_TAIL_CHARS } from '../../db/queries/record-attempt.js'
import type { StepDefinition, Store } from '../../db/store.js'
import { testDatabases } from '../support/dialects.js'
import { storePerTest } from '../support/store-per-test.js'

const LEASE_MS = 30_000

describe.each(testDatabases)('attempt history, lost work first and retry delays on $name', (database) => {
  let store: Store
  storePerTest(database, (opened) => (store = opened))
  let now = 1_000_000
  const tick = () => ++now
  const worker = { workerId: 'test-worker', limit: 100 }

  /** A running run whose flow call scheduled these steps in one final stage and exited 0. */
  async function runWith(steps: StepDefinition[]): Promise<string> {
    const run = await store.createRun({ flowName: 'demo' }, tick())
    const [call] = await store.claimFlowCalls(worker, tick())
    await store.scheduleStage(run.id, { stage: 'one', final: true, steps }, tick())
    await store.recordExit({ lease: call!.lease, exitCode: 0, stdout: 'scheduled' }, tick())
    return run.id
  }

  async function stepOf(runId: string, stepId: string) {
    const step = await store.getStep(runId, stepId)
    if (!step.ok) throw new Error(`no step ${stepId}`)
    return step.value
  }

  it('keeps every attempt of a step, oldest first, with its exit code and bounded output tails', async () => {
    const runId = await runWith([{ id: 'a', name: 's', maxRetries: 2 }])
    const long = 'x'.repeat(ATTEMPT_TAIL_CHARS) + 'END'

    const [first] = await store.claimReadySteps(worker, tick())
    const startedAt = now
    await store.recordExit({ lease: first!.lease, exitCode: 3, stdout: 'one', stderr: long }, tick())
    const endedAt = now
    const [second] = await store.claimReadySteps(worker, tick())
    await store.recordExit(
      { lease: second!.lease, exitCode: null, signal: 'SIGKILL', timedOut: true, stderr: 'slow' },
      tick(),
    )
    const [third] = await store.claimReadySteps(worker, tick())
    await store.recordExit({ lease: third!.lease, exitCode: 0, stdout: 'done' }, tick())

    const step = await stepOf(runId, 'a')
    expect(step).toMatchObject({ status: 'completed', retryCount: 2, stdout: 'done' })
    expect(step.attempts).toEqual([
      {
        attempt: 1,
        workerId: 'test-worker',
        startedAt,
        endedAt,
        exitCode: 3,
        signal: null,
        terminationReason: 'exit',
        stdoutTail: 'one',
        stderrTail: long.slice(-ATTEMPT_TAIL_CHARS),
      },
      expect.objectContaining({
        attempt: 2,
        exitCode: null,
        signal: 'SIGKILL',
        terminationReason: 'timeout',
        stderrTail: 'slow',
      }),
      expect.objectContaining({ attempt: 3, exitCode: 0, terminationReason: 'exit', stdoutTail: 'done' }),
    ])
    expect(step.attempts![0]!.stderrTail!.endsWith('END')).toBe(true)
  })

  it('keeps an attempt that the abort of its run stopped, as aborted', async () => {
    const runId = await runWith([{ id: 'a', name: 's' }])
    await store.claimReadySteps(worker, tick())
    await store.abortRun(runId, tick())
    const step = await stepOf(runId, 'a')
    expect(step.status).toBe('failed')
    expect(step.attempts).toEqual([
      expect.objectContaining({ attempt: 1, exitCode: null, terminationReason: 'aborted' }),
    ])
  })

  it('keeps the attempts of flow calls, lost ones included', async () => {
    const run = await store.createRun({ flowName: 'demo' }, tick())
    await store.claimFlowCalls(worker, tick())
    now += LEASE_MS * 2
    expect(await store.reapExpiredLeases(now, LEASE_MS)).toBe(1)
    const [again] = await store.claimFlowCalls(worker, tick())
    await store.recordExit({ lease: again!.lease, exitCode: 0, stdout: 'nothing to do' }, tick())
    const calls = await store.listFlowCalls(run.id)
    expect(calls.ok && calls.value[0]).toMatchObject({ status: 'completed', attempt: 2, lostAttempts: 1 })
    expect(calls.ok && calls.value[0]?.attempts).toEqual([
      expect.objectContaining({ attempt: 1, terminationReason: 'lease_expired', exitCode: null }),
      expect.objectContaining({
        attempt: 2,
        terminationReason: 'exit',
        exitCode: 0,
        stdoutTail: 'nothing to do',
      }),
    ])
  })

  it('claims lost work before fresh work that was ready earlier', async () => {
    const runId = await runWith([
      { id: 'a', name: 's' },
      { id: 'b', name: 's' },
    ])
    const [first] = await store.claimReadySteps({ ...worker, limit: 1 }, tick())
    expect(first?.stepId).toBe('a')
    // b has been ready (and waiting) since before a was claimed; a's supervisor dies.
    now += LEASE_MS * 2
    expect(await store.reapExpiredLeases(now, LEASE_MS)).toBe(1)
    const [next] = await store.claimReadySteps({ ...worker, limit: 1 }, tick())
    expect(next).toMatchObject({ stepId: 'a', attempt: 2 })
    expect((await stepOf(runId, 'b')).status).toBe('pending')
  })

  it('puts an attempt a stopping worker hands back first in the queue, kept as worker_stopped', async () => {
    const runId = await runWith([
      { id: 'a', name: 's' },
      { id: 'b', name: 's' },
    ])
    const [first] = await store.claimReadySteps({ ...worker, limit: 1 }, tick())
    expect(await store.releaseLeases([first!.lease], tick())).toBe(1)
    const [next] = await store.claimReadySteps({ ...worker, limit: 1 }, tick())
    expect(next).toMatchObject({ stepId: 'a', attempt: 2 })
    const step = await stepOf(runId, 'a')
    expect(step).toMatchObject({ retryCount: 0, lostAttempts: 0 })
    expect(step.attempts?.map((attempt) => attempt.terminationReason)).toEqual(['worker_stopped'])
  })

  it('waits a fixed retry delay before a retry, and says so in waitingFor', async () => {
    const runId = await runWith([
      { id: 'a', name: 's', maxRetries: 2, retryDelaySeconds: 10, retryBackoff: 'fixed' },
    ])
    const [first] = await store.claimReadySteps(worker, tick())
    const failedAt = tick()
    await store.recordExit({ lease: first!.lease, exitCode: 1 }, failedAt)
    const step = await store.getStep(runId, 'a', failedAt + 1)
    expect(step.ok && step.value).toMatchObject({
      status: 'pending',
      retryCount: 1,
      retryDelaySeconds: 10,
      retryBackoff: 'fixed',
      waitingFor: { reason: 'retry_delay', until: failedAt + 10_000 },
    })
    expect(await store.claimReadySteps(worker, failedAt + 9_999)).toEqual([])
    const [second] = await store.claimReadySteps(worker, failedAt + 10_000)
    expect(second?.attempt).toBe(2)
  })

  it('doubles an exponential retry delay per retry, within the jitter band', async () => {
    const runId = await runWith([
      { id: 'a', name: 's', maxRetries: 3, retryDelaySeconds: 4, retryBackoff: 'exponential' },
    ])
    const [first] = await store.claimReadySteps(worker, tick())
    const firstFailedAt = tick()
    await store.recordExit({ lease: first!.lease, exitCode: 1 }, firstFailedAt)
    const firstWait = await store.getStep(runId, 'a', firstFailedAt)
    const firstUntil =
      firstWait.ok && firstWait.value.waitingFor?.reason === 'retry_delay'
        ? firstWait.value.waitingFor.until
        : 0
    expect(firstUntil - firstFailedAt).toBeGreaterThanOrEqual(4_000 * (1 - RETRY_JITTER))
    expect(firstUntil - firstFailedAt).toBeLessThanOrEqual(4_000 * (1 + RETRY_JITTER))

    const [second] = await store.claimReadySteps(worker, firstUntil)
    const secondFailedAt = firstUntil + 1
    await store.recordExit({ lease: second!.lease, exitCode: 1 }, secondFailedAt)
    const secondWait = await store.getStep(runId, 'a', secondFailedAt)
    const secondUntil =
      secondWait.ok && secondWait.value.waitingFor?.reason === 'retry_delay'
        ? secondWait.value.waitingFor.until
        : 0
    expect(secondUntil - secondFailedAt).toBeGreaterThanOrEqual(8_000 * (1 - RETRY_JITTER))
    expect(secondUntil - secondFailedAt).toBeLessThanOrEqual(8_000 * (1 + RETRY_JITTER))
  })

  it('re-queues a lost attempt at once, whatever the retry delay', async () => {
    const runId = await runWith([{ id: 'a', name: 's', retryDelaySeconds: 600, retryBackoff: 'fixed' }])
    await store.claimReadySteps(worker, tick())
    now += LEASE_MS * 2
    expect(await store.reapExpiredLeases(now, LEASE_MS)).toBe(1)
    const [again] = await store.claimReadySteps(worker, tick())
    expect(again).toMatchObject({ stepId: 'a', attempt: 2 })
    expect(await stepOf(runId, 'a')).toMatchObject({ retryCount: 0, lostAttempts: 1 })
  })
})
