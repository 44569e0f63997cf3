// Issue 17, "flow calls end on their own terms": a run whose final stage completes while the flow.sh
// call that scheduled it is still running leaves that call running. Its own exit is recorded when
// it comes, and the run stays completed; MAXQ_ABORT_GRACE_MS after the run's end its heartbeat
// answers it as lost, and its exit after the SIGTERM is recorded as `run_ended`. An abort or a
// failed run still stops open work at once.

import { beforeEach, describe, expect, it } from 'vitest'
import { DEFAULT_RUN_END_GRACE_MS } from '../../db/sql-store.js'
import type { ClaimedFlowCall, Store } from '../../db/store.js'
import { DEFAULT_ABORT_GRACE_MS } from '../../runtime/limits.js'
import { testDatabases } from '../support/dialects.js'
import { storePerTest } from '../support/store-per-test.js'

const LEASE_MS = 30_000
const WORKER = 'test-worker'

describe.each(testDatabases)('a flow call that outlives its run on $name', (database) => {
  let store: Store
  storePerTest(database, (opened) => (store = opened))
  let now = 1_000_000
  const tick = () => ++now
  const worker = { workerId: WORKER, limit: 100 }
  let runId: string
  let call: ClaimedFlowCall

  beforeEach(async () => {
    runId = (await store.createRun({ flowName: 'demo' }, tick())).id
    const [claimed] = await store.claimFlowCalls(worker, tick())
    call = claimed!
  })

  /** The call schedules a final one-step stage and keeps running; the step completes the run. */
  async function completeRunUnderRunningCall(): Promise<number> {
    const scheduled = await store.scheduleStage(
      runId,
      { stage: 'last', final: true, steps: [{ id: 'a', name: 's' }] },
      tick(),
    )
    expect(scheduled.ok).toBe(true)
    const [step] = await store.claimReadySteps(worker, tick())
    const ended = tick()
    expect(await store.recordExit({ lease: step!.lease, exitCode: 0 }, ended)).toEqual({
      accepted: true,
      leasesRevoked: false,
    })
    expect(await store.getRun(runId)).toMatchObject({ status: 'completed', completedAt: ended })
    return ended
  }

  async function flowCall() {
    const calls = await store.listFlowCalls(runId)
    if (!calls.ok) throw new Error(calls.code)
    return calls.value[0]
  }

  async function flowLogs(): Promise<Array<{ level: string; message: string }>> {
    const logs = await store.listLogs(runId, { limit: 100 })
    if (!logs.ok) throw new Error(logs.code)
    return logs.value.filter((log) => log.entityType === 'flow')
  }

  it('waits MAXQ_ABORT_GRACE_MS by default, as the supervisors do', () => {
    expect(DEFAULT_RUN_END_GRACE_MS).toBe(DEFAULT_ABORT_GRACE_MS)
  })

  it('leaves the call running, then records its exit 0 and its output; the run stays completed', async () => {
    await completeRunUnderRunningCall()
    expect(await flowCall()).toMatchObject({ status: 'running', terminationReason: null })
    expect(await store.heartbeat(WORKER, [call.lease], tick())).toEqual({ lost: [] })

    const exit = { lease: call.lease, exitCode: 0, stdout: 'one more thing\n', stderr: '' }
    expect(await store.recordExit(exit, tick())).toEqual({ accepted: true, leasesRevoked: false })
    expect(await flowCall()).toMatchObject({
      status: 'completed',
      exitCode: 0,
      stdout: 'one more thing\n',
      terminationReason: null,
      completedAt: now,
      attempts: [{ attempt: 1, terminationReason: 'exit', exitCode: 0 }],
    })
    expect(await store.getRun(runId)).toMatchObject({
      status: 'completed',
      error: null,
      terminationReason: null,
    })
    const logs = await flowLogs()
    expect(logs).toContainEqual(
      expect.objectContaining({ level: 'info', message: expect.stringMatching(/is still running/) }),
    )
    expect(logs).toContainEqual(
      expect.objectContaining({
        level: 'info',
        message: expect.stringMatching(/exited 0 after the run completed/),
      }),
    )
    // A second report of the same exit changes nothing.
    expect(await store.recordExit(exit, tick())).toEqual({ accepted: false, leasesRevoked: false })
  })

  it('records a non-zero exit after the run completed on the call, at warn; the run stays completed', async () => {
    await completeRunUnderRunningCall()
    const exit = { lease: call.lease, exitCode: 3, stdout: '', stderr: 'cleanup failed\n' }
    expect(await store.recordExit(exit, tick())).toEqual({ accepted: true, leasesRevoked: false })
    expect(await flowCall()).toMatchObject({
      status: 'failed',
      exitCode: 3,
      stderr: 'cleanup failed\n',
      terminationReason: null,
    })
    expect(await store.getRun(runId)).toMatchObject({ status: 'completed', error: null })
    expect(await flowLogs()).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: expect.stringMatching(/exited 3 after the run completed; the run stays completed/),
      }),
    )
  })

  it('answers the lease lost only MAXQ_ABORT_GRACE_MS after the run ended, and records the termination', async () => {
    const ended = await completeRunUnderRunningCall()
    expect(await store.heartbeat(WORKER, [call.lease], ended + DEFAULT_ABORT_GRACE_MS - 1)).toEqual({
      lost: [],
    })
    expect((await flowCall())?.terminationReason).toBe(null)
    const told = ended + DEFAULT_ABORT_GRACE_MS
    expect(await store.heartbeat(WORKER, [call.lease], told)).toEqual({ lost: [call.lease] })
    // Told, and still running: its supervisor is alive and terminating it, so the reaper leaves it
    // alone while the heartbeats go on (each still answers it lost).
    expect(await store.heartbeat(WORKER, [call.lease], told + LEASE_MS)).toEqual({ lost: [call.lease] })
    expect(await store.reapExpiredLeases(told + LEASE_MS + 1, LEASE_MS)).toBe(0)
    expect(await flowCall()).toMatchObject({ status: 'running', terminationReason: 'run_ended' })

    now = told + LEASE_MS + 2
    const exit = { lease: call.lease, exitCode: null, signal: 'SIGTERM', stdout: 'half done\n' }
    expect(await store.recordExit(exit, now)).toEqual({ accepted: true, leasesRevoked: false })
    expect(await flowCall()).toMatchObject({
      status: 'cancelled',
      terminationReason: 'run_ended',
      exitCode: null,
      stdout: 'half done\n',
      completedAt: now,
      attempts: [
        { attempt: 1, terminationReason: 'run_ended', signal: 'SIGTERM', stdoutTail: 'half done\n' },
      ],
    })
    expect(await store.getRun(runId)).toMatchObject({ status: 'completed', completedAt: ended, error: null })
    expect(await flowLogs()).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: expect.stringMatching(/still running MAXQ_ABORT_GRACE_MS after the run completed.*SIGTERM/),
      }),
    )
  })

  it('cancels the call as lease_expired when its supervisor dies after the run ended', async () => {
    const ended = await completeRunUnderRunningCall()
    now = ended + LEASE_MS + 10
    expect(await store.reapExpiredLeases(now, LEASE_MS)).toBe(1)
    expect(await flowCall()).toMatchObject({ status: 'cancelled', terminationReason: 'lease_expired' })
    expect(await store.getRun(runId)).toMatchObject({ status: 'completed' })
    // Not called again: an ended run has nothing to call its flow for.
    expect(await store.claimFlowCalls(worker, tick())).toEqual([])
    expect(await store.heartbeat(WORKER, [call.lease], tick())).toEqual({ lost: [call.lease] })
    expect(await store.recordExit({ lease: call.lease, exitCode: 0 }, tick())).toMatchObject({
      accepted: false,
    })
  })

  it('cancels the call as worker_stopped when its worker hands it back after the run ended', async () => {
    await completeRunUnderRunningCall()
    expect(await store.releaseLeases([call.lease], tick())).toBe(1)
    expect(await flowCall()).toMatchObject({ status: 'cancelled', terminationReason: 'worker_stopped' })
    expect(await store.getRun(runId)).toMatchObject({ status: 'completed' })
    expect(await store.claimFlowCalls(worker, tick())).toEqual([])
  })

  it('refuses a stage posted after the run completed with RUN_NOT_ACTIVE; the run stays completed', async () => {
    await completeRunUnderRunningCall()
    const late = await store.scheduleStage(
      runId,
      { stage: 'after', final: true, steps: [{ id: 'b', name: 's' }] },
      tick(),
    )
    expect(late).toEqual({ ok: false, code: 'RUN_NOT_ACTIVE', details: { runId, status: 'completed' } })
    // As handlers/report-refusal.ts records it, then the flow's curl --fail makes it exit 22.
    await store.recordRefusal(
      runId,
      {
        method: 'POST',
        path: `/api/v1/runs/${runId}/steps`,
        status: 409,
        code: 'RUN_NOT_ACTIVE',
        error: 'Run has ended',
        details: { runId, status: 'completed' },
        schedule: true,
      },
      tick(),
    )
    expect(await store.recordExit({ lease: call.lease, exitCode: 22 }, tick())).toMatchObject({
      accepted: true,
    })
    expect(await flowCall()).toMatchObject({ status: 'failed', exitCode: 22 })
    expect(await store.getRun(runId)).toMatchObject({
      status: 'completed',
      error: null,
      terminationReason: null,
    })
    const run = await store.getRun(runId)
    expect(run?.stages.map((stage) => stage.name)).toEqual(['last'])
  })

  it('stops a call that outlives its run at once when the completed run is aborted', async () => {
    await completeRunUnderRunningCall()
    const aborted = await store.abortRun(runId, tick())
    expect(aborted.ok && aborted.value).toMatchObject({ processesKilled: 1, alreadyCompleted: true })
    expect(await store.heartbeat(WORKER, [call.lease], tick())).toEqual({ lost: [call.lease] })
    const again = await store.abortRun(runId, tick())
    expect(again.ok && again.value).toMatchObject({ processesKilled: 0, alreadyCompleted: true })
    const exit = { lease: call.lease, exitCode: 143, stdout: 'interrupted\n' }
    expect(await store.recordExit(exit, tick())).toEqual({ accepted: true, leasesRevoked: false })
    expect(await flowCall()).toMatchObject({
      status: 'cancelled',
      terminationReason: 'aborted',
      exitCode: 143,
    })
    expect(await store.getRun(runId)).toMatchObject({ status: 'completed', terminationReason: null })
    expect(await flowLogs()).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: expect.stringMatching(/was terminated \(aborted\) after the run completed; it exited 143/),
      }),
    )
  })

  it('still stops a running flow call at once when the run is aborted', async () => {
    await store.scheduleStage(runId, { stage: 'next', final: false, steps: [{ id: 'a', name: 's' }] }, tick())
    const aborted = await store.abortRun(runId, tick())
    expect(aborted.ok && aborted.value).toMatchObject({ processesKilled: 1, alreadyCompleted: false })
    expect(await flowCall()).toMatchObject({ status: 'failed', terminationReason: 'aborted' })
    expect(await store.heartbeat(WORKER, [call.lease], tick())).toEqual({ lost: [call.lease] })
    expect(await store.recordExit({ lease: call.lease, exitCode: 0 }, tick())).toMatchObject({
      accepted: false,
    })
    expect(await store.getRun(runId)).toMatchObject({ status: 'failed', terminationReason: 'aborted' })
  })

  it('still stops running steps at once when the run fails', async () => {
    await store.scheduleStage(
      runId,
      {
        stage: 'two',
        final: false,
        steps: [
          { id: 'a', name: 's' },
          { id: 'b', name: 's' },
        ],
      },
      tick(),
    )
    const [step] = await store.claimReadySteps({ workerId: WORKER, limit: 1 }, tick())
    expect(await store.recordExit({ lease: call.lease, exitCode: 1 }, tick())).toEqual({
      accepted: true,
      leasesRevoked: true,
    })
    expect(await store.getRun(runId)).toMatchObject({ status: 'failed', terminationReason: 'flow_failed' })
    expect(await store.heartbeat(WORKER, [step!.lease], tick())).toEqual({ lost: [step!.lease] })
  })
})
