// Issue 18: one operator's log line per run transition, told by the database layer only after the
// transaction that made the change committed (db/sql-executor.ts SystemLogSink), never for one that
// rolled back; cli/run-transition-log.ts words them.

import { sql } from 'drizzle-orm'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { SystemLine } from '../../db/sql-executor.js'
import type { Store } from '../../db/store.js'
import { wording } from '../../cli/run-transition-log.js'
import { testDatabases } from '../support/dialects.js'
import { notesTablePerTest, rawDialects } from '../support/raw-dialects.js'

const started = (runId: string): SystemLine => ({ event: 'run_started', runId, flow: 'demo' })

describe.each(rawDialects)('the system log seam on $name', (dialect) => {
  const table = notesTablePerTest(dialect)
  let told: SystemLine[]
  beforeEach(() => {
    told = []
    table.d().systemLog.set((line) => told.push(line))
  })

  it('tells a committed transaction’s lines after its COMMIT, in order', async () => {
    await table.d().transaction(async (q) => {
      await q.run(sql`INSERT INTO t (id, note) VALUES (1, 'a')`)
      q.systemLog(started('r1'))
      q.systemLog(started('r2'))
      q.beforeCommit([sql`INSERT INTO t (id, note) VALUES (2, 'b')`])
      // Nothing is told while the transaction may still roll back.
      expect(told).toEqual([])
    })
    expect(told).toEqual([started('r1'), started('r2')])
    expect(await table.notes()).toEqual(['a', 'b'])
  })

  it('tells nothing of a transaction whose work throws', async () => {
    const failing = table.d().transaction(async (q) => {
      await q.run(sql`INSERT INTO t (id, note) VALUES (1, 'a')`)
      q.systemLog(started('r1'))
      throw new Error('changed my mind')
    })
    await expect(failing).rejects.toThrow('changed my mind')
    expect(told).toEqual([])
    expect(await table.notes()).toEqual([])
  })

  it('tells nothing of a transaction that rolls back at its COMMIT (a tail statement failed)', async () => {
    await table.d().db.run(sql`INSERT INTO t (id, note) VALUES (2, 'kept')`)
    const failing = table.d().transaction(async (q) => {
      await q.run(sql`INSERT INTO t (id, note) VALUES (1, 'a')`)
      q.systemLog(started('r1'))
      q.beforeCommit([sql`INSERT INTO t (id, note) VALUES (2, 'duplicate key')`])
    })
    await expect(failing).rejects.toThrow()
    expect(told).toEqual([])
    expect(await table.notes()).toEqual(['kept'])
  })

  it('keeps a committed change when the sink throws', async () => {
    table.d().systemLog.set(() => {
      throw new Error('the log is gone')
    })
    await table.d().transaction(async (q) => {
      await q.run(sql`INSERT INTO t (id, note) VALUES (1, 'a')`)
      q.systemLog(started('r1'))
    })
    expect(await table.notes()).toEqual(['a'])
  })
})

describe.each(testDatabases)('run transitions told by the store on $name', (database) => {
  let store: Store
  let dispose: () => Promise<void>
  let told: SystemLine[]
  let now = 1_000_000
  const tick = () => ++now
  const claim = { workerId: 'w1', limit: 100 }

  beforeEach(async () => {
    told = []
    ;({ store, dispose } = await database.open((line) => told.push(line)))
  })
  afterEach(async () => {
    await dispose()
  })

  const events = () => told.map((line) => line.event)

  it('says run started, step failed with its reason, dependents failed, stage failed, run ended', async () => {
    const run = await store.createRun({ flowName: 'demo' }, tick())
    const createdAt = now
    expect(told).toEqual([])
    const [call] = await store.claimFlowCalls(claim, tick())
    expect(told).toEqual([{ event: 'run_started', runId: run.id, flow: 'demo' }])

    await store.scheduleStage(
      run.id,
      {
        stage: 'fetch',
        final: true,
        steps: [
          { id: 'a', name: 's', maxRetries: 1 },
          { id: 'b', name: 's', dependsOn: ['a'] },
        ],
      },
      tick(),
    )
    await store.recordExit({ lease: call!.lease, exitCode: 0 }, tick())
    told = []

    // The first failure is retried: one line, saying so.
    const [a1] = await store.claimReadySteps(claim, tick())
    await store.recordExit({ lease: a1!.lease, exitCode: 3 }, tick())
    expect(told).toEqual([
      expect.objectContaining({
        event: 'step_failed',
        step: 'a',
        reason: 'exit_code',
        exitCode: 3,
        retry: 1,
      }),
    ])
    expect(wording(told[0]!)).toBe(
      `run ${run.id} (demo): step a attempt 1 failed: exit code 3; retry 1 follows`,
    )
    told = []

    // The second fails for good: the step, its dependent, the stage.
    const [a2] = await store.claimReadySteps(claim, now + 60_000)
    await store.recordExit({ lease: a2!.lease, exitCode: null, signal: 'SIGKILL' }, tick())
    expect(told).toEqual([
      expect.objectContaining({
        event: 'step_failed',
        step: 'a',
        reason: 'signal',
        signal: 'SIGKILL',
        retry: null,
      }),
      expect.objectContaining({
        event: 'step_failed',
        step: 'b',
        reason: 'dependency_failed',
        failedStep: 'a',
      }),
      { event: 'stage_done', runId: run.id, flow: 'demo', stage: 'fetch', status: 'failed' },
    ])
    expect(told.map(wording)).toEqual([
      `run ${run.id} (demo): step a attempt 2 failed: killed by signal SIGKILL`,
      `run ${run.id}: step b failed: dependency failed (a failed first)`,
      `run ${run.id} (demo): stage fetch failed`,
    ])
    told = []

    // The flow is told the stage failed and gives up: the run ends.
    const [callback] = await store.claimFlowCalls(claim, tick())
    await store.recordExit({ lease: callback!.lease, exitCode: 1 }, tick())
    const ended = told.find((line) => line.event === 'run_ended')
    expect(ended).toEqual({
      event: 'run_ended',
      runId: run.id,
      flow: 'demo',
      status: 'failed',
      reason: 'flow_failed',
      durationMs: now - (createdAt + 1),
    })
    expect(wording(ended!)).toMatch(
      new RegExp(`^run ${run.id} \\(demo\\) failed \\(flow_failed\\) after \\d+\\.\\d s$`),
    )

    // What changes nothing says nothing: a repeated report, an abort of an ended run.
    told = []
    await store.recordExit({ lease: callback!.lease, exitCode: 1 }, tick())
    await store.abortRun(run.id, tick())
    expect(told).toEqual([])
  })

  it('says stage completed and run completed for a run that succeeds, and aborted for an abort', async () => {
    const run = await store.createRun({ flowName: 'demo' }, tick())
    const [call] = await store.claimFlowCalls(claim, tick())
    await store.scheduleStage(run.id, { stage: 'only', final: true, steps: [{ id: 'x', name: 's' }] }, tick())
    await store.recordExit({ lease: call!.lease, exitCode: 0 }, tick())
    const [x] = await store.claimReadySteps(claim, tick())
    told = []
    await store.recordExit({ lease: x!.lease, exitCode: 0 }, tick())
    expect(events()).toEqual(['stage_done', 'run_ended'])
    expect(told[1]).toMatchObject({ status: 'completed', reason: null })

    const other = await store.createRun({ flowName: 'demo' }, tick())
    await store.claimFlowCalls(claim, tick())
    told = []
    await store.abortRun(other.id, tick())
    expect(told).toEqual([
      expect.objectContaining({ event: 'run_ended', status: 'failed', reason: 'aborted' }),
    ])
  })
})
