// One worker, one pool of step slots (scheduler/worker.ts): its loop's ticks and the claims its
// step exits carry both take their slots there, so together they never run more than
// maxConcurrentSteps steps. Checked after every claim, in the database (steps running) and in the
// pool, while a stage of short steps goes through a limit of 2.

import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ClaimedWork, ExitOutcome, Store } from '../../db/store.js'
import { resolveSpawner } from '../../runtime/spawn-detached.js'
import { startWorker, type Worker } from '../../scheduler/worker.js'
import { runTokens } from '../../security/run-token.js'
import { testDatabases } from '../support/dialects.js'
import { storePerTest } from '../support/store-per-test.js'
import { createTempDir, removeDir, writeFlow } from '../support/temp-flows.js'
import { waitFor } from '../support/wait-for.js'

const LIMIT = 2
const STEPS = 12

describe.each(testDatabases)('a worker’s slot pool on $name', (database) => {
  let store: Store
  storePerTest(database, (opened) => (store = opened))
  let flowsRoot: string
  let worker: Worker | undefined

  beforeEach(async () => {
    flowsRoot = await createTempDir()
    await writeFlow(flowsRoot, 'demo', { flow: 'exit 0', steps: { quick: 'exit 0' } })
  })
  afterEach(async () => {
    await worker?.stop()
    worker = undefined
    await removeDir(flowsRoot)
  })

  it('never runs more steps than its limit between its loop’s claims and its exits’ claims', async () => {
    const run = await store.createRun({ flowName: 'demo' }, Date.now())
    // The flow call runs elsewhere, so the run stays open while the stage is posted here.
    await store.claimFlowCalls({ workerId: 'elsewhere', limit: 1 }, Date.now())

    const runningAfterClaims: number[] = []
    const usedAfterClaims: number[] = []
    let exitClaims = 0
    const observe = async (): Promise<void> => {
      runningAfterClaims.push(await store.countRunningSteps())
      if (worker !== undefined) usedAfterClaims.push(worker.slots.used)
    }
    const watched: Store = Object.create(store) as Store
    Object.defineProperties(watched, {
      claimWork: {
        value: async (...args: Parameters<Store['claimWork']>): Promise<ClaimedWork> => {
          const work = await store.claimWork(...args)
          await observe()
          return work
        },
      },
      recordExit: {
        value: async (...args: Parameters<Store['recordExit']>): Promise<ExitOutcome> => {
          const outcome = await store.recordExit(...args)
          if ((outcome.claimed?.steps.length ?? 0) > 0) exitClaims++
          await observe()
          return outcome
        },
      },
    })
    worker = await startWorker({
      store: watched,
      workerId: 'worker',
      jobs: {
        flowsRoot,
        apiBase: 'http://127.0.0.1:9/api/v1',
        baseEnv: { PATH: process.env.PATH },
        tokens: runTokens('worker-test-key'),
      },
      batchSize: 10,
      maxConcurrentSteps: LIMIT,
      leaseMs: 30_000,
      intervalMs: 50,
      reapEveryMs: 60_000,
      supervisor: {
        apiBase: 'http://127.0.0.1:9/api/v1',
        apiToken: undefined,
        graceMs: 100,
        spawner: resolveSpawner('auto'),
      },
      onError: (what, error) => {
        throw new Error(`${what}: ${String(error)}`)
      },
    })

    const steps = Array.from({ length: STEPS }, (_, i) => ({ id: `s${i}`, name: 'quick' }))
    expect((await store.scheduleStage(run.id, { stage: 'only', final: true, steps }, Date.now())).ok).toBe(
      true,
    )
    worker.wake()
    await waitFor(async () => (await store.getRun(run.id))?.status === 'completed', {
      timeoutMs: 30_000,
      message: 'the stage did not complete',
    })

    expect(Math.max(...runningAfterClaims)).toBeLessThanOrEqual(LIMIT)
    expect(Math.max(...usedAfterClaims)).toBeLessThanOrEqual(LIMIT)
    // Both kinds of claim took part: the loop's first, then exits filling the slots they freed.
    expect(Math.max(...runningAfterClaims)).toBe(LIMIT)
    expect(exitClaims).toBeGreaterThan(0)
    await waitFor(() => worker?.slots.used === 0, { message: 'slots were not given back' })
  })
})
