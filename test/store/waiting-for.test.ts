// Issue 18: every pending step and run says why it is not running (`waitingFor`), worked out when
// read; and workers record that they are alive (the `workers` table).

import { beforeEach, describe, expect, it } from 'vitest'
import { openDialect } from '../../db/open-dialect.js'
import { loadUnmetDeps } from '../../db/queries/waiting-for.js'
import type { Store } from '../../db/store.js'
import type { WorkerRecord } from '../../db/types.js'
import { testDatabases } from '../support/dialects.js'
import { storePerTest } from '../support/store-per-test.js'

describe.each(testDatabases)('waitingFor and workers on $name', (database) => {
  let store: Store
  storePerTest(database, (opened) => (store = opened))
  let now = 1_000_000
  const tick = () => ++now
  const claim = { workerId: 'w1', limit: 100 }
  const worker = (over: Partial<WorkerRecord> = {}): WorkerRecord => ({
    id: 'w1',
    host: 'box',
    pid: 42,
    kind: 'tick-loop',
    startedAt: now,
    seenAt: now,
    running: 0,
    limit: 4,
    heartbeatMs: 10_000,
    ...over,
  })

  const waits = async (runId: string): Promise<Record<string, unknown>> => {
    const steps = await store.listSteps(runId, now)
    if (!steps.ok) throw new Error(steps.code)
    return Object.fromEntries(steps.value.map((s) => [s.id, s.waitingFor]))
  }

  /** A running run: stage `one` (a; b after a), stage `two` (c), its flow call done. */
  const startedRun = async (): Promise<string> => {
    const run = await store.createRun({ flowName: 'demo' }, tick())
    const [call] = await store.claimFlowCalls(claim, tick())
    await store.scheduleStage(
      run.id,
      {
        stage: 'one',
        final: false,
        steps: [
          { id: 'a', name: 's' },
          { id: 'b', name: 's', dependsOn: ['a'] },
        ],
      },
      tick(),
    )
    await store.scheduleStage(run.id, { stage: 'two', final: true, steps: [{ id: 'c', name: 's' }] }, tick())
    await store.recordExit({ lease: call!.lease, exitCode: 0 }, tick())
    return run.id
  }

  describe('with no live worker', () => {
    it('says no_worker for a pending run and a ready step, and the other reasons for the rest', async () => {
      const pending = await store.createRun({ flowName: 'demo' }, tick())
      expect((await store.getRun(pending.id, now))?.waitingFor).toEqual({ reason: 'no_worker' })

      const runId = await startedRun()
      expect(await waits(runId)).toEqual({
        a: { reason: 'no_worker' },
        b: { reason: 'dependencies', steps: ['a'] },
        c: { reason: 'earlier_stage', stage: 'one' },
      })
      // A running run waits on nothing of its own.
      expect((await store.getRun(runId, now))?.waitingFor).toBeNull()
    })
  })

  describe('with a live worker', () => {
    beforeEach(async () => {
      await store.recordWorker(worker())
    })

    it('says queued for ready work with free slots, concurrency_limit when every slot is taken', async () => {
      const pending = await store.createRun({ flowName: 'demo' }, tick())
      expect((await store.getRun(pending.id, now))?.waitingFor).toEqual({ reason: 'queued' })
      const runId = await startedRun()
      expect((await waits(runId)).a).toEqual({ reason: 'queued' })

      await store.recordWorker(worker({ running: 4, seenAt: tick() }))
      const atLimit = { reason: 'concurrency_limit', running: 4, limit: 4 }
      expect((await waits(runId)).a).toEqual(atLimit)
      const one = await store.getStep(runId, 'a', now)
      expect(one.ok && one.value.waitingFor).toEqual(atLimit)
      // A flow call takes no slot: a worker at its limit still claims a new run's first call.
      const next = await store.createRun({ flowName: 'demo' }, tick())
      expect((await store.getRun(next.id, now))?.waitingFor).toEqual({ reason: 'queued' })
      await store.recordWorker(worker({ id: 'w2', running: 2, limit: 2, seenAt: now }))
      expect((await waits(runId)).a).toEqual({ reason: 'concurrency_limit', running: 6, limit: 6 })
      const calls = await store.claimFlowCalls(claim, tick())
      expect(calls.map((call) => call.runId)).toContain(next.id)
    })

    it('says paused for every pending step and the run', async () => {
      const runId = await startedRun()
      await store.pauseRun(runId, tick())
      expect(await waits(runId)).toEqual({
        a: { reason: 'paused' },
        b: { reason: 'paused' },
        c: { reason: 'paused' },
      })
      expect((await store.getRun(runId, now))?.waitingFor).toEqual({ reason: 'paused' })
    })

    it('says retry_delay with its time after a failed attempt, and null once running or done', async () => {
      const run = await store.createRun({ flowName: 'demo' }, tick())
      const [call] = await store.claimFlowCalls(claim, tick())
      await store.scheduleStage(
        run.id,
        {
          stage: 'one',
          final: true,
          steps: [
            { id: 'a', name: 's', maxRetries: 2 },
            { id: 'z', name: 's' },
          ],
        },
        tick(),
      )
      await store.recordExit({ lease: call!.lease, exitCode: 0 }, tick())
      const claimed = await store.claimReadySteps(claim, tick())
      const a = claimed.find((s) => s.stepId === 'a')!
      expect(await waits(run.id)).toEqual({ a: null, z: null })
      await store.recordExit({ lease: a.lease, exitCode: 1 }, tick())
      // The default backoff is 0 (db/rules/decide-attempt.ts): read as of just before the retry is due.
      const before = now - 1
      const step = await store.getStep(run.id, 'a', before)
      expect(step.ok && step.value.status).toBe('pending')
      const wait = step.ok ? step.value.waitingFor : null
      expect(wait).toMatchObject({ reason: 'retry_delay' })
      expect((wait as { until: number }).until).toBe(now)
      const page = await store.listStepsPage(
        run.id,
        {
          limit: 10,
          offset: 0,
          sortBy: 'createdAt',
          sortOrder: 'asc',
        },
        before,
      )
      expect(page.ok && page.value.steps.map((s) => s.waitingFor)).toEqual([wait, null])
      expect((await waits(run.id)).a).toEqual({ reason: 'queued' })
    })
  })

  describe('the workers table', () => {
    it('upserts a heartbeat, lists live workers, deletes expired and removed rows', async () => {
      await store.recordWorker(worker())
      await store.recordWorker(worker({ id: 'w2', kind: 'tick', heartbeatMs: 60_000 }))
      expect((await store.listLiveWorkers(now)).map((w) => w.id)).toEqual(['w1', 'w2'])

      // A heartbeat updates the row in place.
      await store.recordWorker(worker({ seenAt: now + 5_000, running: 3 }))
      expect(await store.listLiveWorkers(now + 5_000)).toEqual([
        worker({ seenAt: now + 5_000, running: 3 }),
        worker({ id: 'w2', kind: 'tick', heartbeatMs: 60_000 }),
      ])

      // w1 is live while seen within 3 × 10 s; w2 within 3 × 60 s.
      const later = now + 5_000 + 30_001
      expect((await store.listLiveWorkers(later)).map((w) => w.id)).toEqual(['w2'])
      expect(await store.deleteExpiredWorkers(later)).toBe(1)
      await store.removeWorker('w2')
      expect(await store.listLiveWorkers(now)).toEqual([])
    })
  })
})

describe.each(testDatabases)('a page of steps on $name', (database) => {
  it('reads the unmet dependencies of its own pending steps, not of the whole stage', async () => {
    const opened = await database.open()
    const d = await openDialect({
      databaseUrl: opened.databaseEnv.MAXQ_DATABASE_URL,
      sqlitePath: opened.databaseEnv.MAXQ_SQLITE_PATH,
    })
    try {
      const { store } = opened
      const run = await store.createRun({ flowName: 'demo' }, 1)
      await store.claimFlowCalls({ workerId: 'w1', limit: 1 }, 2)
      // A chain: s1 after s0, s2 after s1, …
      const steps = Array.from({ length: 10 }, (_, i) => ({
        id: `s${i}`,
        name: 's',
        ...(i === 0 ? {} : { dependsOn: [`s${i - 1}`] }),
      }))
      await store.scheduleStage(run.id, { stage: 'one', final: true, steps }, 3)
      const page = await store.listStepsPage(
        run.id,
        { limit: 2, offset: 3, sortBy: 'createdAt', sortOrder: 'asc' },
        4,
      )
      if (!page.ok) throw new Error(page.code)
      expect(page.value.steps.map((step) => [step.id, step.waitingFor])).toEqual([
        ['s3', { reason: 'dependencies', steps: ['s2'] }],
        ['s4', { reason: 'dependencies', steps: ['s3'] }],
      ])
      expect([...(await loadUnmetDeps(d, run.id, ['s3', 's4'])).entries()]).toEqual([
        ['s3', ['s2']],
        ['s4', ['s3']],
      ])
      expect((await loadUnmetDeps(d, run.id)).size).toBe(9)
    } finally {
      await d.close()
      await opened.dispose()
    }
  })
})
