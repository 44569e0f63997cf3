import { describe, expect, it } from 'vitest'
import type { Store } from '../../db/store.js'
import { testDatabases } from '../support/dialects.js'
import { storePerTest } from '../support/store-per-test.js'

describe.each(testDatabases)('how a run ends on $name', (database) => {
  let store: Store
  storePerTest(database, (opened) => (store = opened))
  let now = 1_000_000
  const tick = () => ++now
  const worker = { workerId: 'test-worker', limit: 100 }

  it('fails the run when the flow exits non-zero, cancelling its open work', async () => {
    const run = await store.createRun({ flowName: 'demo' }, tick())
    const [call] = await store.claimFlowCalls(worker, tick())
    await store.scheduleStage(
      run.id,
      {
        stage: 'one',
        final: true,
        steps: [
          { id: 'a', name: 's' },
          { id: 'b', name: 's' },
        ],
      },
      tick(),
    )
    const outcome = await store.recordExit({ lease: call!.lease, exitCode: 7, stderr: 'boom\n' }, tick())
    expect(outcome).toEqual({ accepted: true, leasesRevoked: false })

    const ended = await store.getRun(run.id)
    expect(ended).toMatchObject({
      status: 'failed',
      terminationReason: 'flow_failed',
      error: { reason: 'flow_failed', exitCode: 7, stderr: 'boom\n' },
    })
    expect(ended?.completedAt).toBe(now)
    const steps = await store.listSteps(run.id)
    expect(steps.ok && steps.value.map((s) => s.status)).toEqual(['cancelled', 'cancelled'])
    const calls = await store.listFlowCalls(run.id)
    expect(calls.ok && calls.value).toMatchObject([{ status: 'failed', exitCode: 7, stderr: 'boom\n' }])
    expect(await store.claimReadySteps(worker, tick())).toEqual([])
    expect(await store.findWork(tick())).toEqual({ claimable: false, running: false })
  })

  it('completes the run, with a warning, when the flow exits 0 and schedules nothing', async () => {
    const run = await store.createRun({ flowName: 'demo', input: { n: 1 }, metadata: 'tag' }, tick())
    const [call] = await store.claimFlowCalls(worker, tick())
    await store.recordExit({ lease: call!.lease, exitCode: 0 }, tick())
    const ended = await store.getRun(run.id)
    expect(ended).toMatchObject({ status: 'completed', input: { n: 1 }, metadata: 'tag', stages: [] })
    const logs = await store.listLogs(run.id, { level: 'warn', limit: 10 })
    expect(logs.ok && logs.value.map((l) => l.message)).toEqual([
      'flow.sh scheduled nothing and no stage is open; the run is complete',
    ])
  })

  it('fails the run when the flow schedules nothing after a failed stage', async () => {
    const run = await store.createRun({ flowName: 'demo' }, tick())
    const [call] = await store.claimFlowCalls(worker, tick())
    await store.scheduleStage(run.id, { stage: 'one', final: false, steps: [{ id: 'a', name: 's' }] }, tick())
    await store.recordExit({ lease: call!.lease, exitCode: 0 }, tick())
    const [step] = await store.claimReadySteps(worker, tick())
    await store.recordExit({ lease: step!.lease, exitCode: 1 }, tick())
    const [callback] = await store.claimFlowCalls(worker, tick())
    expect(callback).toMatchObject({ completedStage: null, failedStage: 'one' })
    await store.recordExit({ lease: callback!.lease, exitCode: 0 }, tick())
    expect(await store.getRun(run.id)).toMatchObject({
      status: 'failed',
      terminationReason: 'stage_failed',
      error: { reason: 'stage_failed', stage: 'one' },
    })
  })

  it('finds no work when idle, then what is claimable and what runs while a run is open', async () => {
    expect(await store.findWork(tick())).toEqual({ claimable: false, running: false })
    expect(await store.countRunningSteps()).toBe(0)

    const run = await store.createRun({ flowName: 'demo' }, tick())
    expect(await store.findWork(tick())).toEqual({ claimable: true, running: false })
    const [call] = await store.claimFlowCalls(worker, tick())
    expect(await store.findWork(tick())).toEqual({ claimable: false, running: true })
    await store.scheduleStage(run.id, { stage: 'one', final: true, steps: [{ id: 'a', name: 's' }] }, tick())
    expect(await store.findWork(tick())).toEqual({ claimable: true, running: true })
    await store.recordExit({ lease: call!.lease, exitCode: 0 }, tick())
    const [step] = await store.claimReadySteps(worker, tick())
    expect(await store.countRunningSteps()).toBe(1)
    expect(await store.findWork(tick())).toEqual({ claimable: false, running: true })
    await store.recordExit({ lease: step!.lease, exitCode: 0 }, tick())

    expect((await store.getRun(run.id))?.status).toBe('completed')
    expect(await store.findWork(tick())).toEqual({ claimable: false, running: false })
    expect(await store.countRunningSteps()).toBe(0)
  })

  it('lists, counts and patches runs', async () => {
    const first = await store.createRun({ flowName: 'alpha' }, tick())
    await store.createRun({ flowName: 'beta' }, tick())
    await store.createRun({ flowName: 'alpha' }, tick())
    const listed = await store.listRuns({
      flowName: 'alpha',
      limit: 1,
      offset: 0,
      sortBy: 'createdAt',
      sortOrder: 'asc',
    })
    expect(listed.total).toBe(2)
    expect(listed.runs.map((r) => r.id)).toEqual([first.id])

    const patched = await store.updateRun(first.id, { name: 'nightly', output: { rows: 3 } }, tick())
    expect(patched.ok && patched.value).toMatchObject({
      name: 'nightly',
      output: { rows: 3 },
      updatedAt: now,
    })
    const logged = await store.appendLog(
      first.id,
      { level: 'info', message: 'hello', metadata: [1, 'two'] },
      tick(),
    )
    expect(logged.ok && logged.value).toMatchObject({
      entityType: 'run',
      metadata: [1, 'two'],
      createdAt: now,
    })
    expect(typeof (logged.ok && logged.value.id)).toBe('string')
  })

  it('lists runs not finished last, whichever the sort order', async () => {
    const open = await store.createRun({ flowName: 'demo' }, tick())
    const done: string[] = []
    for (let i = 0; i < 2; i++) {
      const run = await store.createRun({ flowName: 'demo' }, tick())
      await store.abortRun(run.id, tick())
      done.push(run.id)
    }
    const base = { limit: 10, offset: 0, sortBy: 'completedAt' } as const
    const asc = await store.listRuns({ ...base, sortOrder: 'asc' })
    expect(asc.runs.map((r) => r.id)).toEqual([...done, open.id])
    const desc = await store.listRuns({ ...base, sortOrder: 'desc' })
    expect(desc.runs.map((r) => r.id)).toEqual([...done.reverse(), open.id])
  })

  it('calls the flow again when a run whose flow failed is retried', async () => {
    const run = await store.createRun({ flowName: 'demo' }, tick())
    const [call] = await store.claimFlowCalls(worker, tick())
    await store.recordExit({ lease: call!.lease, exitCode: 1 }, tick())
    const retried = await store.retryRun(run.id, tick())
    expect(retried.ok && retried.value).toMatchObject({ status: 'pending', error: null, completedAt: null })
    // Pending until the flow's new call is claimed, as after a trigger.
    expect((await store.getRun(run.id))?.status).toBe('pending')
    const [again] = await store.claimFlowCalls(worker, tick())
    expect(again).toMatchObject({ runId: run.id, completedStage: null, failedStage: null, attempt: 1 })
    expect((await store.getRun(run.id))?.status).toBe('running')
  })
})
