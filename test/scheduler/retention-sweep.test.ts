// MAXQ_RETENTION_DAYS (issue 18): the tick's retention sweep, on both databases, with a fixed clock.

import { describe, expect, it } from 'vitest'
import type { Store } from '../../db/store.js'
import { sweepRetention, startRetentionTimer } from '../../scheduler/retention-sweep.js'
import { testDatabases } from '../support/dialects.js'
import { storePerTest } from '../support/store-per-test.js'
import { waitFor } from '../support/wait-for.js'

const DAY = 86_400_000
const NOW = Date.UTC(2026, 5, 1)

describe.each(testDatabases)('retention sweep on $name', (database) => {
  let store: Store
  storePerTest(database, (opened) => (store = opened))

  /** A run that failed (was aborted) `daysAgo` days before NOW. */
  const finished = async (daysAgo: number): Promise<string> => {
    const { id } = await store.createRun({ flowName: 'demo' }, NOW - daysAgo * DAY - 1)
    expect((await store.abortRun(id, NOW - daysAgo * DAY)).ok).toBe(true)
    return id
  }

  it('deletes a bounded batch of runs finished before the retention, oldest first', async () => {
    const old = [await finished(40), await finished(35), await finished(31)]
    const kept = await finished(29)
    const open = (await store.createRun({ flowName: 'demo' }, NOW - 90 * DAY)).id

    expect(await sweepRetention(store, 30, NOW, 2)).toBe(2)
    expect(await store.getRun(old[0]!)).toBeNull()
    expect(await store.getRun(old[2]!)).not.toBeNull()
    expect(await sweepRetention(store, 30, NOW, 2)).toBe(1)
    expect(await sweepRetention(store, 30, NOW, 2)).toBe(0)
    expect(await store.getRun(kept)).not.toBeNull()
    expect((await store.getRun(open))?.status).toBe('pending')
  })

  it("sweeps on a long-running worker's timer until the backlog is gone, and stops", async () => {
    for (let i = 0; i < 5; i++) await finished(10 + i)
    const recent = await finished(1)
    const swept: number[] = []
    const timer = startRetentionTimer({
      store: { pruneRuns: (query) => store.pruneRuns({ ...query, limit: 2 }) },
      retentionDays: 7,
      now: () => NOW,
      everyMs: 5,
      onSwept: (deleted) => swept.push(deleted),
    })
    await waitFor(() => swept.reduce((a, b) => a + b, 0) === 5, { timeoutMs: 5_000 })
    await timer.stop()
    expect(swept).toEqual([2, 2, 1])
    expect(await store.getRun(recent)).not.toBeNull()
  })
})
