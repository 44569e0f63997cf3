// Several tick processes against one PostgreSQL (DESIGN invariant 2): each store below has its own
// connection pool, so their transactions really interleave on the server. PostgreSQL only: SQLite
// is one file written by one BEGIN IMMEDIATE transaction at a time, so there is no row-level
// concurrency to test; its claims are serial by construction.

import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { WakeEvent } from '../../db/sql-executor.js'
import { openStore } from '../../db/open-store.js'
import type { ClaimedStep, Store } from '../../db/store.js'
import { createPostgresDatabase } from '../support/dialects.js'
import { runWithStage as openRun } from '../support/drive-run.js'
import { waitFor } from '../support/wait-for.js'

const STORES = 4
const READY_STEPS = 500

describe('concurrent stores on one PostgreSQL database', () => {
  let stores: Store[]
  let drop: () => Promise<void>
  let now = 1_000_000
  const tick = () => ++now

  beforeEach(async () => {
    const database = await createPostgresDatabase()
    drop = database.drop
    stores = []
    // Opened one after another: the first applies the migrations, the others find them applied.
    for (let i = 0; i < STORES; i++) stores.push(await openStore({ databaseUrl: database.databaseUrl }))
  })
  afterEach(async () => {
    await Promise.all(stores.map((store) => store.close()))
    await drop()
  })

  /** A running run whose stage `one` holds the given steps, none started. */
  const runWithStage = (stepIds: string[], final: boolean): Promise<string> =>
    openRun(stores[0]!, { stage: 'one', final, steps: stepIds.map((id) => ({ id, name: 's' })) }, tick)

  /**
   * Listens on the last store; `untilMarker` answers the wake-ups it heard since the last call.
   * Aborting a run always notifies 'abort', whatever the run's state: a marker. Notifications
   * arrive in commit order, so once the marker's has come, any earlier one has too.
   */
  async function wakeUps(): Promise<{
    untilMarker: () => Promise<WakeEvent[]>
    unsubscribe: () => Promise<void>
  }> {
    const marker = await stores[1]!.createRun({ flowName: 'marker' }, tick())
    const events: WakeEvent[] = []
    const unsubscribe = await stores[3]!.subscribe((event) => events.push(event))
    const untilMarker = async (): Promise<WakeEvent[]> => {
      await stores[1]!.abortRun(marker.id, tick())
      await waitFor(() => events.includes('abort'), { message: 'no wake-up for the marker' })
      return events.splice(0)
    }
    await untilMarker()
    return { untilMarker, unsubscribe }
  }

  it(`claims each of ${READY_STEPS} ready steps exactly once across ${STORES} stores`, async () => {
    const ids = Array.from({ length: READY_STEPS }, (_, i) => `s${i}`)
    const runId = await runWithStage(ids, true)
    const claimAt = tick()

    const claimedBy = await Promise.all(
      stores.map(async (store, i) => {
        const mine: ClaimedStep[] = []
        // A store stops when a claim finds nothing it can lock; the others drain the rest.
        for (;;) {
          const batch = await store.claimReadySteps({ workerId: `worker-${i}`, limit: 7 }, claimAt)
          if (batch.length === 0) return mine
          mine.push(...batch)
        }
      }),
    )
    const all = claimedBy.flat()
    expect(all).toHaveLength(READY_STEPS)
    expect(new Set(all.map((step) => step.stepId)).size).toBe(READY_STEPS)
    expect(all.every((step) => step.attempt === 1)).toBe(true)
    // More than one store took part, or the test proved nothing about concurrency.
    expect(claimedBy.filter((mine) => mine.length > 0).length).toBeGreaterThan(1)

    const steps = await stores[0]!.listSteps(runId)
    expect(steps.ok && steps.value.every((step) => step.status === 'running' && step.attempt === 1)).toBe(
      true,
    )
    expect(await stores[0]!.claimReadySteps({ workerId: 'late', limit: 100 }, tick())).toEqual([])
  })

  it('queues exactly one flow call when the last two sibling steps finish at the same moment', async () => {
    for (let round = 0; round < 10; round++) {
      const runId = await runWithStage(['left', 'right'], false)
      const claimed = await stores[0]!.claimReadySteps({ workerId: 'w', limit: 10 }, tick())
      expect(claimed).toHaveLength(2)
      const at = tick()
      const outcomes = await Promise.all(
        claimed.map((step, i) => stores[i + 1]!.recordExit({ lease: step.lease, exitCode: 0 }, at)),
      )
      expect(outcomes).toEqual([
        { accepted: true, leasesRevoked: false },
        { accepted: true, leasesRevoked: false },
      ])

      const calls = await stores[0]!.listFlowCalls(runId)
      const queued = calls.ok ? calls.value.filter((call) => call.status === 'queued') : []
      expect(queued).toHaveLength(1)
      expect(queued[0]).toMatchObject({ completedStage: 'one', failedStage: null })
      expect((await stores[0]!.getRun(runId))?.stages.map((s) => s.status)).toEqual(['completed'])
    }
  })

  it('never runs a step after its run was aborted while a claim was taking it', async () => {
    for (let round = 0; round < 10; round++) {
      const ids = Array.from({ length: 40 }, (_, i) => `s${i}`)
      const runId = await runWithStage(ids, true)
      const at = tick()
      const [claimed] = await Promise.all([
        stores[1]!.claimReadySteps({ workerId: 'w', limit: 40 }, at),
        stores[2]!.abortRun(runId, at),
      ])
      const steps = await stores[0]!.listSteps(runId)
      // Whatever the interleaving, the abort ends all open work: nothing is left running.
      expect(steps.ok && steps.value.filter((step) => step.status !== 'failed')).toEqual([])
      const beat = await stores[3]!.heartbeat(
        'w',
        claimed.map((step) => step.lease),
        tick(),
      )
      expect(beat.lost).toHaveLength(claimed.length)
    }
  })

  it('aborts a pending run while its first flow call is being claimed, without deadlock', async () => {
    for (let round = 0; round < 20; round++) {
      const runs = await Promise.all(
        Array.from({ length: 5 }, () => stores[0]!.createRun({ flowName: 'demo' }, tick())),
      )
      const at = tick()
      const [claimed] = await Promise.all([
        stores[1]!.claimFlowCalls({ workerId: 'w', limit: 10 }, at),
        ...runs.map((run) => stores[2]!.abortRun(run.id, at)),
      ])
      for (const run of runs) {
        const calls = await stores[0]!.listFlowCalls(run.id)
        expect(calls.ok && calls.value.map((call) => call.status)).toEqual([
          claimed.some((call) => call.runId === run.id) ? 'failed' : 'cancelled',
        ])
        expect((await stores[0]!.getRun(run.id))?.status).toBe('failed')
      }
    }
  })

  it('wakes other stores for a step end only when it made work claimable', async () => {
    const store = stores[0]!
    const steps = [
      { id: 'a', name: 's' },
      { id: 'b', name: 's', dependsOn: ['a'] },
      { id: 'c', name: 's' },
    ]
    await openRun(store, { stage: 'one', final: true, steps }, tick)
    const claimed = await store.claimReadySteps({ workerId: 'w', limit: 10 }, tick())
    const lease = (id: string): string => claimed.find((step) => step.stepId === id)!.lease
    const { untilMarker, unsubscribe } = await wakeUps()

    await store.recordExit({ lease: lease('c'), exitCode: 0 }, tick())
    expect(await untilMarker()).toEqual(['abort'])
    await store.recordExit({ lease: lease('a'), exitCode: 0 }, tick())
    expect(await untilMarker()).toEqual(['work', 'abort'])
    await unsubscribe()
  })

  it('wakes other stores for work an end released only when its own claim may have left some', async () => {
    const store = stores[0]!
    const steps = [
      { id: 'a', name: 's' },
      { id: 'a2', name: 's', dependsOn: ['a'] },
      { id: 'b', name: 's' },
      { id: 'b2', name: 's', dependsOn: ['b'] },
      { id: 'b3', name: 's', dependsOn: ['b'] },
      { id: 'open', name: 's' },
    ]
    await openRun(store, { stage: 'one', final: true, steps }, tick)
    const claimed = await store.claimReadySteps({ workerId: 'w', limit: 10 }, tick())
    const lease = (id: string): string => claimed.find((step) => step.stepId === id)!.lease
    const { untilMarker, unsubscribe } = await wakeUps()

    // Its claim had room to spare: it took all the end released, and nobody is told.
    const spare = await store.recordExit({ lease: lease('a'), exitCode: 0 }, tick(), {
      workerId: 'w',
      flowCallLimit: 1,
      stepLimit: 2,
    })
    expect(spare.claimed?.steps.map((step) => step.stepId)).toEqual(['a2'])
    expect(await untilMarker()).toEqual(['abort'])
    // Its claim filled: what it left (b3 here) is the others' to take.
    const full = await store.recordExit({ lease: lease('b'), exitCode: 0 }, tick(), {
      workerId: 'w',
      flowCallLimit: 1,
      stepLimit: 1,
    })
    expect(full.claimed?.steps).toHaveLength(1)
    expect(await untilMarker()).toEqual(['work', 'abort'])
    await unsubscribe()
  })

  it('wakes a subscriber in another store on LISTEN/NOTIFY, until it unsubscribes', async () => {
    const events: WakeEvent[] = []
    const unsubscribe = await stores[3]!.subscribe((event) => events.push(event))
    const run = await stores[0]!.createRun({ flowName: 'demo' }, tick())
    await waitFor(() => events.includes('work'), { message: 'no work wake-up' })
    await stores[1]!.abortRun(run.id, tick())
    await waitFor(() => events.includes('abort'), { message: 'no abort wake-up' })

    await unsubscribe()
    const seen = events.length
    await stores[0]!.createRun({ flowName: 'demo' }, tick())
    // A NOTIFY sent after the UNLISTEN reaches nobody; a round trip on the listening store's pool
    // cannot prove a negative, so allow the server a moment before checking.
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(events).toHaveLength(seen)
  })
})
