import { beforeEach, describe, expect, it } from 'vitest'
import { runTokens } from '../../security/run-token.js'
import type { Store } from '../../db/store.js'
import type { ProcessJob } from '../../runtime/process-job.js'
import { SlotPool } from '../../scheduler/slot-pool.js'
import { tick, type TickDeps } from '../../scheduler/tick.js'
import { testDatabases } from '../support/dialects.js'
import { storePerTest } from '../support/store-per-test.js'

describe.each(testDatabases)('tick on $name', (database) => {
  let store: Store
  storePerTest(database, (opened) => (store = opened))
  let launched: ProcessJob[]
  let now: number

  beforeEach(async () => {
    launched = []
    now = 1_000_000
  })

  const deps = (overrides: Partial<TickDeps> = {}): TickDeps => ({
    store,
    workerId: 'tick-test',
    jobs: {
      flowsRoot: '/flows',
      apiBase: 'http://127.0.0.1:9/api/v1',
      baseEnv: { PATH: '/usr/bin' },
      tokens: runTokens('tick-test-key'),
    },
    batchSize: 10,
    slots: new SlotPool(1_000),
    launch: (jobs) => launched.push(...jobs),
    now: () => ++now,
    reap: false,
    leaseMs: 30_000,
    ...overrides,
  })

  async function runWithStage(stepCount: number) {
    const run = await store.createRun({ flowName: 'demo' }, ++now)
    const first = await tick(deps())
    expect(first).toMatchObject({ flowCalls: 1, claimed: 0 })
    const steps = Array.from({ length: stepCount }, (_, i) => ({ id: `s${i}`, name: 'work' }))
    await store.scheduleStage(run.id, { stage: 'only', final: true, steps }, ++now)
    launched = []
    return run
  }

  it('starts the first flow call with the flow env and cwd', async () => {
    const run = await store.createRun({ flowName: 'demo' }, ++now)
    const report = await tick(deps())
    expect(report).toEqual({ reaped: 0, scheduled: 0, flowCalls: 1, claimed: 0, full: false })
    expect(launched).toHaveLength(1)
    expect(launched[0]).toMatchObject({ command: '/flows/demo/flow.sh', cwd: '/flows/demo' })
    expect(launched[0]?.env).toMatchObject({
      MAXQ_RUN_ID: run.id,
      MAXQ_FLOW_NAME: 'demo',
      MAXQ_COMPLETED_STAGE: '',
    })
    expect(launched[0]?.env.MAXQ_FAILED_STAGE).toBeUndefined()
    // A second tick finds nothing: the call is running and a run's calls never overlap.
    expect(await tick(deps())).toMatchObject({ flowCalls: 0, claimed: 0 })
  })

  it('claims at most one batch per tick and says when it was full', async () => {
    await runWithStage(25)
    expect(await tick(deps())).toMatchObject({ claimed: 10, full: true })
    expect(await tick(deps())).toMatchObject({ claimed: 10, full: true })
    expect(await tick(deps())).toMatchObject({ claimed: 5, full: false })
    expect(new Set(launched.map((job) => job.lease)).size).toBe(25)
    expect(launched[0]).toMatchObject({
      command: '/flows/demo/steps/work/step.sh',
      cwd: '/flows/demo/steps/work',
    })
  })

  it('claims no more steps than its pool has free, and holds them until the launch', async () => {
    await runWithStage(5)
    const slots = new SlotPool(2)
    const usedAtLaunch: number[] = []
    const pooled = deps({
      slots,
      launch: (jobs) => {
        usedAtLaunch.push(slots.used)
        launched.push(...jobs)
      },
    })
    expect(await tick(pooled)).toMatchObject({ claimed: 2 })
    // The pool is full: the next tick asks for nothing.
    expect(await tick(pooled)).toMatchObject({ claimed: 0, full: false })
    expect(usedAtLaunch).toEqual([2])
    expect(slots.used).toBe(2)
    slots.ended(launched[0]!.lease)
    expect(await tick(pooled)).toMatchObject({ claimed: 1 })
    expect(slots.used).toBe(2)
  })

  it('reaps an attempt whose lease expired as lost, not failed, and claims it again', async () => {
    await runWithStage(1)
    await tick(deps())
    const lease = launched[0]!.lease
    now += 60_000
    const report = await tick(deps({ reap: true }))
    expect(report.reaped).toBeGreaterThanOrEqual(1)
    // maxRetries is 0 and the step runs again all the same: its supervisor died, not its script.
    // The same tick reaps, then claims the re-queued attempt.
    const step = await store.getStep(lease.split('/')[1]!, lease.split('/')[2]!)
    expect(step.ok && step.value).toMatchObject({
      status: 'running',
      attempt: 2,
      retryCount: 0,
      lostAttempts: 1,
    })
    expect(step.ok && step.value.attempts?.map((a) => a.terminationReason)).toEqual(['lease_expired'])
  })
})
