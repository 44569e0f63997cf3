// The worker that `maxq tick --watch` and `npm start` wire from the configuration: its loop claims
// with its slots held while the claim is in flight, and a stage post made meanwhile claims nothing
// (a change made through the API only wakes a worker). The loop's claim is held back here until the
// post has committed, so the claim sees the posted steps and takes only as many as the limit.

import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Config } from '../../cli/config.js'
import { createLogger } from '../../cli/log.js'
import { startWorker, type RunningWorker } from '../../cli/start-worker.js'
import type { Store } from '../../db/store.js'
import { resolveSpawner } from '../../runtime/spawn-detached.js'
import { testDatabases } from '../support/dialects.js'
import { storePerTest } from '../support/store-per-test.js'
import { createTempDir, removeDir, writeFlow } from '../support/temp-flows.js'
import { waitFor } from '../support/wait-for.js'

const LIMIT = 2

describe.each(testDatabases)('a worker’s claims on $name', (database) => {
  let store: Store
  storePerTest(database, (opened) => (store = opened))
  let flowsRoot: string
  let worker: RunningWorker | undefined

  beforeEach(async () => {
    flowsRoot = await createTempDir()
    await writeFlow(flowsRoot, 'demo', { flow: 'exit 0', steps: { wait: 'sleep 30' } })
  })
  afterEach(async () => {
    await worker?.stop()
    worker = undefined
    await removeDir(flowsRoot)
  })

  const config = (): Config => ({
    flowsRoot,
    databaseUrl: undefined,
    sqlitePath: '',
    databasePoolSize: 10,
    port: 0,
    host: '127.0.0.1',
    // One tick at start, none after: only the claims this test lets through run.
    intervalMs: 3_600_000,
    batchSize: 10,
    maxConcurrentSteps: LIMIT,
    abortGraceMs: 100,
    leaseMs: 30_000,
    maxLostAttempts: 3,
    retryDefaults: { retryDelayMs: 0, retryBackoff: 'exponential' },
    apiBase: 'http://127.0.0.1:9/api/v1',
    logLevel: 'error',
    logFormat: 'text',
    workerId: 'worker',
    spawner: resolveSpawner('auto'),
    runtimeDir: path.join(flowsRoot, 'runtime'),
    apiToken: undefined,
    passthroughEnv: [],
    maxBodyBytes: 1024 * 1024,
    maxFieldsBytes: 8 * 1024 * 1024,
    retentionDays: undefined,
    metricsPublic: false,
    metricsPort: undefined,
    noWorkerWarningMs: 30_000,
  })

  it('claims through its loop, up to the limit, never through a stage post', async () => {
    const run = await store.createRun({ flowName: 'demo' }, Date.now())
    await store.claimFlowCalls({ workerId: 'elsewhere', limit: 1 }, Date.now())

    // The loop's first claim waits at this gate, its slots held.
    let loopClaimLimit: number | null = null
    let openGate = (): void => undefined
    const gate = new Promise<void>((resolve) => (openGate = resolve))
    const gated: Store = Object.create(store) as Store
    Object.defineProperty(gated, 'claimWork', {
      value: async (claim: Parameters<Store['claimWork']>[0]) => {
        loopClaimLimit ??= claim.stepLimit
        await gate
        // Claimed when let through: the steps are posted after the claim was asked for.
        return store.claimWork(claim, Date.now())
      },
    })
    worker = await startWorker(config(), gated, createLogger('error'))
    await waitFor(() => loopClaimLimit !== null, { message: 'the loop never claimed' })
    expect(loopClaimLimit).toBe(LIMIT)

    const steps = ['a', 'b', 'c', 'd'].map((id) => ({ id, name: 'wait' }))
    expect((await gated.scheduleStage(run.id, { stage: 'one', final: true, steps }, Date.now())).ok).toBe(
      true,
    )
    // The post claimed nothing: only the worker claims.
    expect(await store.countRunningSteps()).toBe(0)

    openGate()
    await waitFor(async () => (await store.countRunningSteps()) === LIMIT, {
      message: 'the loop claimed nothing',
    })
    await waitFor(() => worker?.supervisor.running === LIMIT, { message: 'the claimed steps did not start' })
    const listed = await store.listSteps(run.id)
    expect(listed.ok && listed.value.map((step) => step.status)).toEqual([
      'running',
      'running',
      'pending',
      'pending',
    ])
  })
})
