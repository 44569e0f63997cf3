// One worker, one pool of step slots (scheduler/worker.ts): its loop's ticks and the claims its
// step exits carry both take their slots there, so together they never run more than
// maxConcurrentSteps steps. Checked after every claim, in the database (steps running) and in the
// pool, while a stage of short steps goes through a limit of 2. And the loop ticks after a step's
// or a flow call's end only when that end's own claim may have left work behind.

import { writeFile } from 'node:fs/promises'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ClaimedWork, ExitOutcome, StepDefinition, Store } from '../../db/store.js'
import { resolveSpawner } from '../../runtime/spawn-detached.js'
import { startWorker, type Worker } from '../../scheduler/worker.js'
import { runTokens } from '../../security/run-token.js'
import { testDatabases } from '../support/dialects.js'
import { storePerTest } from '../support/store-per-test.js'
import { createTempDir, removeDir, writeFlow, writeScript } from '../support/temp-flows.js'
import { waitFor } from '../support/wait-for.js'

const LIMIT = 2
const STEPS = 12

describe.each(testDatabases)('a worker’s slot pool on $name', (database) => {
  let store: Store
  storePerTest(database, (opened) => (store = opened))
  let flowsRoot: string
  let worker: Worker | undefined

  type Limits = { batchSize: number; maxConcurrentSteps: number }

  function start(on: Store, limits: Limits & { intervalMs: number }): Promise<Worker> {
    return startWorker({
      store: on,
      workerId: 'worker',
      jobs: {
        flowsRoot,
        apiBase: 'http://127.0.0.1:9/api/v1',
        baseEnv: { PATH: process.env.PATH },
        tokens: runTokens('worker-test-key'),
      },
      ...limits,
      leaseMs: 30_000,
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
  }

  /**
   * The store, with the steps and the flow calls each of the loop's claims took, in order, and the
   * number of timer-tick questions (findWork) asked.
   */
  function watchingLoopClaims(): {
    watched: Store
    loopClaims: string[][]
    loopFlowCalls: number[]
    questions: () => number
  } {
    const loopClaims: string[][] = []
    const loopFlowCalls: number[] = []
    let asked = 0
    const watched: Store = Object.create(store) as Store
    Object.defineProperties(watched, {
      claimWork: {
        value: async (...args: Parameters<Store['claimWork']>): Promise<ClaimedWork> => {
          const work = await store.claimWork(...args)
          loopClaims.push(work.steps.map((step) => step.stepId))
          loopFlowCalls.push(work.flowCalls.length)
          return work
        },
      },
      findWork: {
        value: (...args: Parameters<Store['findWork']>) => {
          asked++
          return store.findWork(...args)
        },
      },
    })
    return { watched, loopClaims, loopFlowCalls, questions: () => asked }
  }

  /** After its first tick (made at start), the loop only ticks when woken: the interval is 60 s. */
  async function startedIdle(watched: Store, loopClaims: string[][], limits: Limits): Promise<Worker> {
    const started = await start(watched, { ...limits, intervalMs: 60_000 })
    await waitFor(() => loopClaims.length > 0, { message: 'the loop did not tick at start' })
    return started
  }

  /** A run of flow `demo` whose flow call runs elsewhere, so the run stays open for its stage. */
  async function openRun(): Promise<string> {
    const run = await store.createRun({ flowName: 'demo' }, Date.now())
    await store.claimFlowCalls({ workerId: 'elsewhere', limit: 1 }, Date.now())
    return run.id
  }

  /** Posts the run's one stage, wakes the worker, and answers what the loop claimed until the run ended. */
  async function runStage(
    runId: string,
    steps: StepDefinition[],
    loopClaims: string[][],
  ): Promise<string[][]> {
    expect((await store.scheduleStage(runId, { stage: 'only', final: true, steps }, Date.now())).ok).toBe(
      true,
    )
    const before = loopClaims.length
    worker?.wake()
    await waitFor(async () => (await store.getRun(runId))?.status === 'completed', {
      timeoutMs: 30_000,
      message: 'the stage did not complete',
    })
    return loopClaims.slice(before)
  }

  beforeEach(async () => {
    flowsRoot = await createTempDir()
    await writeFlow(flowsRoot, 'demo', { flow: 'exit 0', steps: { quick: 'exit 0', slow: 'sleep 1' } })
  })
  afterEach(async () => {
    await worker?.stop()
    worker = undefined
    await removeDir(flowsRoot)
  })

  it('never runs more steps than its limit between its loop’s claims and its exits’ claims', async () => {
    const runId = await openRun()

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
    worker = await start(watched, { batchSize: 10, maxConcurrentSteps: LIMIT, intervalMs: 50 })

    const steps = Array.from({ length: STEPS }, (_, i) => ({ id: `s${i}`, name: 'quick' }))
    await runStage(runId, steps, [])

    expect(Math.max(...runningAfterClaims)).toBeLessThanOrEqual(LIMIT)
    expect(Math.max(...usedAfterClaims)).toBeLessThanOrEqual(LIMIT)
    // Both kinds of claim took part: the loop's first, then exits filling the slots they freed.
    expect(Math.max(...runningAfterClaims)).toBe(LIMIT)
    expect(exitClaims).toBeGreaterThan(0)
    await waitFor(() => worker?.slots.used === 0, { message: 'slots were not given back' })
  })

  it('runs a chain on its steps’ own claims: the loop does not tick after each end', async () => {
    const runId = await openRun()
    const { watched, loopClaims } = watchingLoopClaims()
    worker = await startedIdle(watched, loopClaims, { batchSize: 10, maxConcurrentSteps: LIMIT })
    const steps = ['c1', 'c2', 'c3', 'c4', 'c5'].map((id, i) => ({
      id,
      name: 'quick',
      ...(i === 0 ? {} : { dependsOn: [`c${i}`] }),
    }))
    // The wake-up's tick took c1; every later step was claimed by its predecessor's end.
    expect(await runStage(runId, steps, loopClaims)).toEqual([['c1']])
  })

  it('ticks after an end whose claim filled its batch while slots are still free', async () => {
    const runId = await openRun()
    const { watched, loopClaims } = watchingLoopClaims()
    // A batch of 2 with 4 slots: the root's end releases three steps and claims two of them; the
    // loop must take the third at once, not the end of d1 a second later (or the interval).
    worker = await startedIdle(watched, loopClaims, { batchSize: 2, maxConcurrentSteps: 4 })
    const steps = [
      { id: 'root', name: 'quick' },
      ...['d1', 'd2', 'd3'].map((id) => ({ id, name: 'slow', dependsOn: ['root'] })),
    ]
    const claims = await runStage(runId, steps, loopClaims)
    expect(claims.filter((taken) => taken.length > 0)).toEqual([['root'], ['d3']])
  })

  it('starts the callback queued behind a flow call from that call’s end, with no tick', async () => {
    // The first call waits for `go`; meanwhile its stage runs and ends, queuing the callback, which
    // may not start while the first call runs. The first call's end must claim it.
    const go = `${flowsRoot}/go`
    await writeFlow(flowsRoot, 'waits', {
      flow: `[ -n "\${MAXQ_COMPLETED_STAGE:-}" ] || until [ -e '${go}' ]; do sleep 0.02; done`,
      steps: { quick: 'exit 0' },
    })
    const { watched, loopClaims, loopFlowCalls } = watchingLoopClaims()
    worker = await startedIdle(watched, loopClaims, { batchSize: 10, maxConcurrentSteps: LIMIT })
    const run = await store.createRun({ flowName: 'waits' }, Date.now())
    worker.wake()
    await waitFor(() => loopFlowCalls.includes(1), { message: 'the loop did not claim the first call' })
    const stage = { stage: 'first', final: false, steps: [{ id: 'a', name: 'quick' }] }
    expect((await store.scheduleStage(run.id, stage, Date.now())).ok).toBe(true)
    worker.wake()
    await waitFor(async () => (await store.getRun(run.id))?.stages[0]?.status === 'completed', {
      message: 'the stage did not complete',
    })
    const ticksBefore = loopClaims.length

    await writeFile(go, '')
    await waitFor(async () => (await store.getRun(run.id))?.status === 'completed', {
      timeoutMs: 30_000,
      message: 'the run did not complete',
    })
    const calls = await store.listFlowCalls(run.id)
    expect(calls.ok && calls.value.map((call) => [call.completedStage, call.status])).toEqual([
      [null, 'completed'],
      ['first', 'completed'],
    ])
    // Neither call's end woke the loop: the first one's claim took the callback, the second left nothing.
    expect(loopClaims.length).toBe(ticksBefore)
    expect(loopFlowCalls.reduce((sum, n) => sum + n, 0)).toBe(1)
  })

  it('asks one question per interval while a step runs, and claims nothing until a reap is due', async () => {
    const go = `${flowsRoot}/go`
    await writeScript(`${flowsRoot}/demo/steps/held/step.sh`, `until [ -e '${go}' ]; do sleep 0.02; done`)
    const runId = await openRun()
    const { watched, loopClaims, questions } = watchingLoopClaims()
    // A reap is due at the first tick, then not for a minute.
    worker = await start(watched, { batchSize: 10, maxConcurrentSteps: LIMIT, intervalMs: 10 })
    const stage = { stage: 'only', final: true, steps: [{ id: 'h', name: 'held' }] }
    expect((await store.scheduleStage(runId, stage, Date.now())).ok).toBe(true)
    worker.wake()
    await waitFor(async () => (await store.countRunningSteps()) === 1, {
      message: 'the step did not start',
    })
    const [asked, claimed] = [questions(), loopClaims.length]
    await waitFor(() => questions() >= asked + 10, { message: 'the loop did not tick on its interval' })
    expect(loopClaims.length).toBe(claimed)

    await writeFile(go, '')
    await waitFor(async () => (await store.getRun(runId))?.status === 'completed', {
      message: 'the run did not complete',
    })
  })
})
