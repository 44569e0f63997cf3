import { describe, expect, it } from 'vitest'
import type { RunListQuery, Store } from '../../db/store.js'
import { testDatabases } from '../support/dialects.js'
import { storePerTest } from '../support/store-per-test.js'

// GET /runs's pages come from indexes in the order asked for (migration 0015) and its totals from
// the run-count changes the triggers append (migration 0016). Both must answer what sorting and
// counting the runs themselves would.
describe.each(testDatabases)('listing runs on $name', (database) => {
  let store: Store
  storePerTest(database, (opened) => (store = opened))
  const worker = { workerId: 'test-worker', limit: 100 }

  /** Six runs in three states over two flows; b-2 and b-3 share a createdAt. */
  async function seed(): Promise<void> {
    const created = [
      ['alpha', 100],
      ['beta', 101],
      ['alpha', 102],
      ['beta', 103],
      ['beta', 103],
      ['alpha', 105],
    ] as const
    for (const [flowName, at] of created) await store.createRun({ flowName }, at)
    // Start the three oldest (their flow calls), then end the first with its flow's exit 0 before
    // anything was scheduled, which fails it (schedule_refused is not needed: any end will do).
    const calls = await store.claimFlowCalls({ ...worker, limit: 3 }, 200)
    expect(calls).toHaveLength(3)
    await store.recordExit({ lease: calls[0]!.lease, exitCode: 1 }, 300)
  }

  const query = (over: Partial<RunListQuery>): RunListQuery => ({
    limit: 100,
    offset: 0,
    sortBy: 'createdAt',
    sortOrder: 'desc',
    ...over,
  })

  /** What an in-memory sort says the page is: nulls last in both directions, ties by id. */
  async function expectedOrder(q: RunListQuery): Promise<string[]> {
    const all = (await store.listRuns(query({ limit: 100 }))).runs
    const key = (run: (typeof all)[number]): Array<string | number> => {
      const missing = q.sortOrder === 'asc' ? Number.MAX_SAFE_INTEGER : -1
      switch (q.sortBy) {
        case 'createdAt':
          return [run.createdAt, run.id]
        case 'startedAt':
          return [run.startedAt ?? missing, run.id]
        case 'completedAt':
          return [run.completedAt ?? missing, run.id]
        case 'status':
          return [run.status, run.createdAt, run.id]
        case 'flowName':
          return [run.flowName, run.createdAt, run.id]
      }
    }
    const sign = q.sortOrder === 'asc' ? 1 : -1
    return all
      .filter((run) => q.flowName === undefined || run.flowName === q.flowName)
      .filter((run) => q.status === undefined || run.status === q.status)
      .sort((a, b) => {
        const [ka, kb] = [key(a), key(b)]
        for (let i = 0; i < ka.length; i++) {
          if (ka[i]! < kb[i]!) return -sign
          if (ka[i]! > kb[i]!) return sign
        }
        return 0
      })
      .map((run) => run.id)
  }

  it('pages every sort in both directions as sorting the runs would, runs not started or ended last', async () => {
    await seed()
    for (const sortBy of ['createdAt', 'startedAt', 'completedAt', 'status', 'flowName'] as const) {
      for (const sortOrder of ['asc', 'desc'] as const) {
        const q = query({ sortBy, sortOrder })
        const expected = await expectedOrder(q)
        expect(
          (await store.listRuns(q)).runs.map((run) => run.id),
          `${sortBy} ${sortOrder}`,
        ).toEqual(expected)
        // A page in the middle is the same slice of that order.
        const page = await store.listRuns({ ...q, limit: 2, offset: 2 })
        expect(page.runs.map((run) => run.id)).toEqual(expected.slice(2, 4))
      }
    }
    const started = await store.listRuns(query({ sortBy: 'startedAt', sortOrder: 'asc' }))
    expect(started.runs.slice(-3).map((run) => run.startedAt)).toEqual([null, null, null])
  })

  it('counts what the filters match through creation, status changes and deletion', async () => {
    await seed()
    const totals = async (): Promise<number[]> =>
      Promise.all(
        [
          {},
          { flowName: 'alpha' },
          { flowName: 'beta' },
          { status: 'pending' as const },
          { status: 'running' as const },
          { status: 'failed' as const },
          { flowName: 'beta', status: 'running' as const },
          { flowName: 'nobody' },
        ].map(async (filter) => (await store.listRuns(query({ ...filter, limit: 1 }))).total),
      )
    expect(await totals()).toEqual([6, 3, 3, 3, 2, 1, 1, 0])
    const failed = (await store.listRuns(query({ status: 'failed' }))).runs[0]!
    await store.deleteRun(failed.id)
    expect(await totals()).toEqual([5, 2, 3, 3, 2, 0, 1, 0])
    // A fold keeps every total; below its threshold it does nothing at all.
    expect(await store.foldRunCounts()).toBe(0)
    for (let i = 0; i < 250; i++) await store.createRun({ flowName: 'gamma' }, 1_000 + i)
    expect(await store.foldRunCounts()).toBeGreaterThan(0)
    expect(await totals()).toEqual([255, 2, 3, 253, 2, 0, 1, 0])
    expect((await store.listRuns(query({ flowName: 'gamma' }))).total).toBe(250)
  })
})
