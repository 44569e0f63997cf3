// Fault suite (issue 17): a `maxq tick --watch` is SIGKILLed, then another one starts on the same
// host: between a claim and the spawn of what it claimed, while a flow call runs, and while its
// steps run. The lost attempt is re-queued without spending the step's `maxRetries: 0`, its orphaned process group
// (the script and the child it left) is gone before the re-run starts, and the re-run starts soon
// after the new tick does: the lease here is 120 s, longer than any wait, so only the restarted
// worker recognising its dead predecessor (not the lease) can get the run done in time.
//
// PostgreSQL: separate tick processes against one database. The claim-to-spawn window is made
// deterministic without any hook in MaxQ: a trigger the test puts on its own database makes a claim
// wait, mid-statement, for an advisory lock the test holds. The test starts a tick, waits until its
// claim is waiting, freezes the tick with SIGSTOP and lets the lock go: PostgreSQL finishes and
// commits the claim, whose answer the frozen tick never reads, and SIGKILL ends the tick there.
// (A table lock would not do: it stops the statement while it is parsed, before the client has
// sent what executes it.)

import { spawn } from 'node:child_process'
import postgres from 'postgres'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { postgresDatabase } from '../support/dialects.js'
import { PACKAGE_ROOT } from '../support/start-server.js'
import { waitFor } from '../support/wait-for.js'
import { readMarkers, stage, work } from './fault-flow.js'
import { API_ONLY, startFaultWorld, type FaultWorld } from './fault-world.js'

/** An advisory lock key of the test's own. */
const CLAIM_LOCK = 17_0001

/**
 * Test instrumentation, in the test's own database only: a step's change from pending to running
 * (a claim) waits, before its statement can end, for the advisory lock CLAIM_LOCK. The statement
 * and its commit are already on their way to the server then, so they complete without the client.
 */
const HOLD_CLAIMS = `
  CREATE FUNCTION faults_hold_claim() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN PERFORM pg_advisory_xact_lock_shared(${CLAIM_LOCK}); RETURN NEW; END $$;
  CREATE TRIGGER faults_hold_claim AFTER UPDATE ON steps FOR EACH ROW
    WHEN (OLD.status = 'pending' AND NEW.status = 'running') EXECUTE FUNCTION faults_hold_claim();`
const RELEASE_CLAIMS = `
  DROP TRIGGER faults_hold_claim ON steps;
  DROP FUNCTION faults_hold_claim();`

describe('fault: a tick --watch is killed (postgres)', () => {
  let world: FaultWorld
  let sql: postgres.Sql

  beforeAll(async () => {
    world = await startFaultWorld(postgresDatabase, { env: { MAXQ_LEASE_MS: '120000' } })
    await world.startApi(API_ONLY)
    sql = postgres(world.databaseEnv.MAXQ_DATABASE_URL!, { max: 2, onnotice: () => undefined })
  })

  afterEach(async () => {
    await world?.stopTicks()
  })

  afterAll(async () => {
    await sql?.end({ timeout: 5 })
    await world?.close()
  })

  /** One `maxq tick` (not --watch): claims once, hands what it claimed to a detached supervisor. */
  function tickOnce(): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['bin/maxq.js', 'tick'], {
        cwd: PACKAGE_ROOT,
        env: world.env,
        stdio: 'ignore',
      })
      child.once('error', reject)
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`maxq tick exited ${code}`))))
    })
  }

  /** Lost attempts are kept (issue 17): when the API lists them, the first is the lost one. */
  async function expectLostThenCompleted(runId: string, stepId: string): Promise<void> {
    const step = await world.client.getStep(runId, stepId)
    expect(step).toMatchObject({ status: 'completed', exitCode: 0 })
    expect(step.attempts, 'GET /runs/{run}/steps/{step} lists attempts').toBeDefined()
    const [lost, rerun, ...more] = step.attempts!
    expect(lost?.terminationReason).toBe('lease_expired')
    expect(rerun).toMatchObject({ exitCode: 0 })
    expect(rerun?.terminationReason).not.toBe('lease_expired')
    expect(more).toEqual([])
  }

  it('re-runs a step whose tick was killed between its claim and its spawn', async () => {
    const runId = await world.trigger({
      start: { post: [stage('only', true, [work('s', { env: { POST_AFTER: '1' } })])] },
    })
    // The flow call under a one-shot tick, so that no tick is left to claim the step it schedules.
    await tickOnce()
    await world.waitForStep(runId, 's', ['pending'])
    await world.waitForFlowCallsSettled(runId)

    // Every claim of a step now waits, inside its own execution, for the advisory lock the test
    // holds; the new tick's claim is the one that will.
    await sql.unsafe(HOLD_CLAIMS)
    const holder = await sql.reserve()
    await holder`SELECT pg_advisory_lock(${CLAIM_LOCK})`
    const doomed = world.startTick()
    try {
      await waitFor(
        async () => {
          const [row] = await sql<{ n: number }[]>`
            SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'`
          return row!.n > 0
        },
        { timeoutMs: 30_000, intervalMs: 20, message: "the new tick's step claim never started" },
      )
      process.kill(doomed.pid, 'SIGSTOP')
    } finally {
      await holder`SELECT pg_advisory_unlock(${CLAIM_LOCK})`
      holder.release()
      await sql.unsafe(RELEASE_CLAIMS)
    }
    // The claim commits without the frozen tick: the step is running, leased to a process that
    // will never start it.
    await world.waitForStep(runId, 's', ['running'])
    await world.kill(doomed.pid, doomed.exited)
    expect(readMarkers(world.outDir, runId).attempts).toEqual([])

    world.startTick()
    await world.expectCompleted(runId)
    await world.expectConsistent(runId)
    expect(readMarkers(world.outDir, runId).attempts.map((attempt) => attempt.stepId)).toEqual(['s'])
    await expectLostThenCompleted(runId, 's')
  })

  it('calls the flow again when its tick was killed during the call, once the first call is gone', async () => {
    const first = world.startTick()
    const runId = await world.trigger({
      start: { post: [stage('first', false, [work('a')])] },
      'completed:first': { holdFirst: true, post: [stage('second', true, [work('b')])] },
    })
    await world.waitForMarker(runId, 'holding-flow-completed:first')
    await world.kill(first.pid, first.exited)

    world.startTick()
    await waitFor(() => readMarkers(world.outDir, runId).flow.length >= 3, {
      timeoutMs: 45_000,
      intervalMs: 100,
      message: 'the flow call was not made again after its tick was killed',
    }).catch(async (error: unknown) => {
      throw new Error(`${String(error)}\n${await world.describe(runId)}`)
    })
    world.touch(runId, 'release-flow')

    await world.expectCompleted(runId)
    await world.expectConsistent(runId)
    expect(readMarkers(world.outDir, runId).flow.map((call) => call.key)).toEqual([
      'start',
      'completed:first',
      'completed:first',
    ])
    const calls = await world.waitForFlowCallsSettled(runId)
    expect(calls.map((call) => [call.completedStage, call.status, call.exitCode, call.attempt])).toEqual([
      [null, 'completed', 0, 1],
      ['first', 'completed', 0, 2],
    ])
  })

  it('re-runs the steps of a tick killed while they ran, after their process groups are gone', async () => {
    const first = world.startTick()
    const runId = await world.trigger({
      start: {
        post: [
          stage('only', true, [
            work('s', { env: { HOLD: '1', BG_CHILD: '1', POST_AFTER: '1' } }),
            work('t', { env: { POST_AFTER: '1' } }),
          ]),
        ],
      },
    })
    await world.waitForMarker(runId, 'holding-s')
    await world.waitForStep(runId, 't', ['completed'])
    await world.kill(first.pid, first.exited)

    // s's script and its `sleep 300 &` are orphans now; the next tick on this host must end them
    // and re-run s at once. The re-run holds too, until the test has seen it start.
    world.startTick()
    await waitFor(
      () => readMarkers(world.outDir, runId).attempts.filter((a) => a.stepId === 's').length >= 2,
      {
        timeoutMs: 45_000,
        intervalMs: 100,
        message: 's was not re-run after its tick was killed',
      },
    ).catch(async (error: unknown) => {
      throw new Error(`${String(error)}\n${await world.describe(runId)}`)
    })
    world.touch(runId, 'release')

    await world.expectCompleted(runId)
    await world.expectConsistent(runId)
    const starts = readMarkers(world.outDir, runId).attempts.map((attempt) => attempt.stepId)
    expect(starts.sort()).toEqual(['s', 's', 't'])
    await expectLostThenCompleted(runId, 's')
    expect((await world.client.getStep(runId, 't')).attempt).toBe(1)
  })
})
