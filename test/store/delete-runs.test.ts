// Deleting finished runs (issue 18, retention): one by hand, and old ones in bounded batches.
// Everything of a run goes with it (ON DELETE CASCADE); other runs and open runs are untouched.

import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Store } from '../../db/store.js'
import { openDatabaseSnapshots } from '../support/database-snapshot.js'
import { testDatabases } from '../support/dialects.js'
import { claimFlowCall, claimStep, reportExit } from '../support/drive-run.js'

describe.each(testDatabases)('deleting runs on $name', (database) => {
  let store: Store
  let databaseEnv: Record<string, string>
  let dispose: () => Promise<void>
  beforeEach(async () => {
    const opened = await database.open()
    ;({ store, databaseEnv, dispose } = opened)
  })
  afterEach(async () => dispose())

  /** A completed run with two stages' worth of rows: steps, a dependency, fields, logs, flow calls. */
  async function richRun(): Promise<string> {
    const { id } = await store.createRun({ flowName: 'rich', input: { n: 1 } }, Date.now())
    const call = await claimFlowCall(store, id)
    await store.scheduleStage(
      id,
      {
        stage: 'only',
        final: true,
        steps: [
          { id: 'a', name: 's' },
          { id: 'b', name: 's', dependsOn: ['a'] },
        ],
      },
      Date.now(),
    )
    await reportExit(store, call.lease, 0)
    await reportExit(store, (await claimStep(store, id, 'a')).lease, 0)
    await store.postFields(id, 'b', { answer: 42 }, Date.now())
    await store.appendLog(id, { level: 'info', message: 'hello' }, Date.now())
    await reportExit(store, (await claimStep(store, id, 'b')).lease, 0)
    expect((await store.getRun(id))?.status).toBe('completed')
    return id
  }

  /** Rows anywhere in the database that mention the run id. */
  async function rowsOf(runId: string): Promise<string[]> {
    const snapshots = openDatabaseSnapshots(databaseEnv)
    try {
      const snapshot = await snapshots.take()
      return Object.entries(snapshot).flatMap(([table, rows]) =>
        rows.filter((row) => row.includes(runId)).map((row) => `${table}: ${row}`),
      )
    } finally {
      await snapshots.close()
    }
  }

  it('deletes a finished run and everything of it, and nothing else', async () => {
    const doomed = await richRun()
    const kept = await richRun()
    const open = (await store.createRun({ flowName: 'open' }, Date.now())).id
    expect((await rowsOf(doomed)).length).toBeGreaterThan(5)
    // Its attempt history too (issue 17): the flow call's attempt and each step's.
    expect((await rowsOf(doomed)).filter((row) => row.startsWith('attempts: '))).toHaveLength(3)
    const keptRows = await rowsOf(kept)

    expect(await store.deleteRun(doomed)).toEqual({ ok: true, value: { id: doomed } })
    expect(await rowsOf(doomed)).toEqual([])
    expect(await rowsOf(kept)).toEqual(keptRows)
    expect(await store.getRun(doomed)).toBeNull()

    expect(await store.deleteRun(doomed)).toMatchObject({ ok: false, code: 'RUN_NOT_FOUND' })
    expect(await store.deleteRun(open)).toEqual({
      ok: false,
      code: 'RUN_NOT_FINISHED',
      details: { runId: open, status: 'pending' },
    })
    expect((await store.getRun(open))?.status).toBe('pending')
  })

  it('prunes the oldest finished runs in bounded batches, never open ones', async () => {
    const aborted: string[] = []
    for (const at of [1_000, 2_000, 3_000, 4_000]) {
      const { id } = await store.createRun({ flowName: at === 3_000 ? 'other' : 'demo' }, 500)
      expect((await store.abortRun(id, at)).ok).toBe(true)
      aborted.push(id)
    }
    const paused = (await store.createRun({ flowName: 'demo' }, 100)).id
    await claimFlowCall(store, paused)
    expect((await store.pauseRun(paused, 200)).ok).toBe(true)
    const pending = (await store.createRun({ flowName: 'demo' }, 100)).id
    const [r1, r2, r3, r4] = aborted as [string, string, string, string]

    const query = { finishedBefore: 3_500, limit: 2 }
    expect(await store.pruneRuns({ ...query, dryRun: true })).toEqual({ runIds: [r1, r2], matched: 3 })
    expect(await store.pruneRuns({ ...query, flowName: 'other', dryRun: true })).toEqual({
      runIds: [r3],
      matched: 1,
    })
    expect(await store.getRun(r1)).not.toBeNull()

    expect(await store.pruneRuns({ ...query, dryRun: false })).toEqual({ runIds: [r1, r2], matched: 2 })
    expect(await store.pruneRuns({ ...query, dryRun: false })).toEqual({ runIds: [r3], matched: 1 })
    expect(await store.pruneRuns({ ...query, dryRun: false })).toEqual({ runIds: [], matched: 0 })
    expect(
      await store.pruneRuns({ finishedBefore: Number.MAX_SAFE_INTEGER, limit: 100, dryRun: false }),
    ).toEqual({
      runIds: [r4],
      matched: 1,
    })
    for (const id of [r1, r2, r3, r4]) expect(await store.getRun(id)).toBeNull()
    expect((await store.getRun(pending))?.status).toBe('pending')
    expect((await store.getRun(paused))?.status).toBe('paused')
  })
})
