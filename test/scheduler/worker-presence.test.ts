// Issue 18: a long-running worker writes its `workers` row at start, beats, and deletes it on a
// clean stop; a one-shot tick writes one row per host.

import { hostname } from 'node:os'
import { describe, expect, it } from 'vitest'
import type { Store } from '../../db/store.js'
import { recordOneShotTick, startPresence } from '../../scheduler/worker-presence.js'
import { testDatabases } from '../support/dialects.js'
import { storePerTest } from '../support/store-per-test.js'
import { waitFor } from '../support/wait-for.js'

describe.each(testDatabases)('worker presence on $name', (database) => {
  let store: Store
  storePerTest(database, (opened) => (store = opened))

  it('records the worker at start, updates it on each beat, and deletes it on a clean stop', async () => {
    let running = 0
    const presence = await startPresence({
      store,
      workerId: 'w-test',
      kind: 'local-runner',
      limit: 3,
      running: () => running,
      heartbeatMs: 20,
      onError: (error) => {
        throw error
      },
    })
    const [row] = await store.listLiveWorkers(Date.now())
    expect(row).toMatchObject({ id: 'w-test', host: hostname(), pid: process.pid, kind: 'local-runner' })
    expect(row).toMatchObject({ running: 0, limit: 3, heartbeatMs: 20 })
    running = 2
    await waitFor(async () => (await store.listLiveWorkers(Date.now()))[0]?.running === 2, {
      timeoutMs: 5_000,
    })
    await presence.stop()
    expect(await store.listLiveWorkers(0)).toEqual([])
  })

  it('records a one-shot tick as its host, seen now, and deletes dead rows', async () => {
    const now = Date.now()
    await store.recordWorker({
      id: 'dead',
      host: 'h',
      pid: 1,
      kind: 'tick-loop',
      startedAt: 0,
      seenAt: now - 60_000,
      running: 0,
      limit: 1,
      heartbeatMs: 10_000,
    })
    await recordOneShotTick(store, { limit: 5, running: 1 }, now)
    await recordOneShotTick(store, { limit: 5, running: 2 }, now + 1)
    const rows = await store.listLiveWorkers(0)
    expect(rows.map((w) => [w.id, w.kind, w.running])).toEqual([[`tick@${hostname()}`, 'tick', 2]])
  })
})
