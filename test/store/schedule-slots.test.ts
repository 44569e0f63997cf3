// flow.json schedule slots in the store: each slot decided exactly once however many stores race
// for it (several connections on one database), overlap skip/allow, and the first sighting.

import { describe, expect, it } from 'vitest'
import { openStore } from '../../db/open-store.js'
import type { ScheduledRunRequest, Store } from '../../db/store.js'
import { testDatabases } from '../support/dialects.js'
import { storePerTest } from '../support/store-per-test.js'

const CLAIMERS = 4
const SLOTS = 20

describe.each(testDatabases)('schedule slots on $name', (database) => {
  let store: Store
  storePerTest(database, (opened) => (store = opened))
  let now = 1_000_000
  const tick = () => ++now
  const request = (slotAt: number, overlap: 'skip' | 'allow' = 'allow'): ScheduledRunRequest => ({
    flowName: 'nightly',
    scheduleIndex: 0,
    slotAt,
    overlap,
    input: { n: slotAt },
    metadata: { trigger: { type: 'schedule', schedule: 0, slot: slotAt, cron: '* * * * * *' } },
  })

  it(`starts each of ${SLOTS} slots exactly once across ${CLAIMERS} racing stores`, async () => {
    // PostgreSQL: several stores, each its own pool, so their transactions interleave on the server.
    // SQLite: one store called concurrently. better-sqlite3 is synchronous, so a second connection
    // in this same thread would wait on the first's lock while holding the thread it needs; the
    // local runner is one process with one connection, whose transactions queue.
    const shared = await database.open()
    const url = shared.databaseEnv.MAXQ_DATABASE_URL
    const claimers = [shared.store]
    for (let i = 1; i < CLAIMERS; i++) {
      claimers.push(url === undefined ? shared.store : await openStore({ databaseUrl: url }))
    }
    try {
      const slots = Array.from({ length: SLOTS }, (_, i) => (i + 1) * 1000)
      const decisions = await Promise.all(
        claimers.map(async (claimer) => {
          const mine = []
          for (const slot of slots)
            mine.push((await claimer.startScheduledRun(request(slot), tick())).outcome)
          return mine
        }),
      )
      for (let i = 0; i < SLOTS; i++) {
        const forSlot = decisions.map((mine) => mine[i])
        expect(forSlot.filter((o) => o === 'started')).toHaveLength(1)
        expect(forSlot.filter((o) => o === 'taken')).toHaveLength(CLAIMERS - 1)
      }
      const { runs, total } = await shared.store.listRuns({
        flowName: 'nightly',
        limit: 100,
        offset: 0,
        sortBy: 'createdAt',
        sortOrder: 'asc',
      })
      expect(total).toBe(SLOTS)
      const slotKeys = runs.map((run) => (run.metadata as { trigger: { slot: number } }).trigger.slot)
      expect(new Set(slotKeys).size).toBe(SLOTS)
      expect(await shared.store.lastScheduleSlots(['nightly'])).toEqual([
        { flowName: 'nightly', scheduleIndex: 0, lastSlotAt: SLOTS * 1000 },
      ])
    } finally {
      for (const claimer of claimers.slice(1)) if (claimer !== shared.store) await claimer.close()
      await shared.dispose()
    }
  })

  it('creates the run with its first flow call, input and trigger', async () => {
    const decision = await store.startScheduledRun(request(5000), tick())
    expect(decision.outcome).toBe('started')
    const [call] = await store.claimFlowCalls({ workerId: 'w', limit: 10 }, tick())
    expect(call?.flowName).toBe('nightly')
    const run = await store.getRun(call!.runId)
    expect(run?.input).toEqual({ n: 5000 })
    expect(run?.metadata).toEqual({
      trigger: { type: 'schedule', schedule: 0, slot: 5000, cron: '* * * * * *' },
    })
  })

  it('overlap skip decides a slot as skipped while the previous run is open; allow starts it', async () => {
    const first = await store.startScheduledRun(request(1000, 'skip'), tick())
    expect(first.outcome).toBe('started')
    expect((await store.startScheduledRun(request(2000, 'skip'), tick())).outcome).toBe('skipped')
    // Decided: the skipped slot is not offered again.
    expect((await store.startScheduledRun(request(2000, 'allow'), tick())).outcome).toBe('taken')
    expect((await store.startScheduledRun(request(3000, 'allow'), tick())).outcome).toBe('started')

    // Once no run of the schedule is open, skip starts again.
    const { runs } = await store.listRuns({
      flowName: 'nightly',
      limit: 10,
      offset: 0,
      sortBy: 'createdAt',
      sortOrder: 'asc',
    })
    for (const run of runs) await store.abortRun(run.id, tick())
    expect((await store.startScheduledRun(request(4000, 'skip'), tick())).outcome).toBe('started')
    expect(await store.lastScheduleSlots(['nightly', 'other'])).toEqual([
      { flowName: 'nightly', scheduleIndex: 0, lastSlotAt: 4000 },
    ])
  })

  it('marks a schedule seen only while it has no slot', async () => {
    const slot = { flowName: 'nightly', scheduleIndex: 1 }
    expect(await store.markScheduleSeen({ ...slot, slotAt: 500 }, tick())).toBe(true)
    expect(await store.markScheduleSeen({ ...slot, slotAt: 900 }, tick())).toBe(false)
    expect(await store.lastScheduleSlots(['nightly'])).toEqual([{ ...slot, lastSlotAt: 500 }])
    expect(await store.listRuns({ limit: 10, offset: 0, sortBy: 'createdAt', sortOrder: 'asc' })).toEqual({
      runs: [],
      total: 0,
    })
  })
})
