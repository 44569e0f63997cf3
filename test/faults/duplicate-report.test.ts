// Fault suite (issue 17): an exit report delivered twice. A supervisor retries its report until it
// is answered, so when the first delivery was recorded but its answer lost, the same report arrives
// again; two deliveries may even race. The second must be refused by the lease's fencing token and
// change nothing: no second transition, no second stage end, no second flow callback.
//
// The test plays the supervisor itself: `maxq serve` (the API, a separate process) and no tick, so
// the test claims the work through its own store, as a worker would, and posts the exit reports to
// POST /api/v1/leases/exit. Both databases.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ClaimedWork } from '../../db/store.js'
import { testDatabases } from '../support/dialects.js'
import { stage, work } from './fault-flow.js'
import { API_ONLY, startFaultWorld, type FaultWorld } from './fault-world.js'

const WORKER = 'faults-test-supervisor'

describe.each(testDatabases)('fault: an exit report delivered twice ($name)', (database) => {
  let world: FaultWorld

  beforeAll(async () => {
    world = await startFaultWorld(database)
    await world.startApi(API_ONLY)
  })

  afterAll(async () => {
    await world?.close()
  })

  const claim = (): Promise<ClaimedWork> =>
    world.store.claimWork({ workerId: WORKER, flowCallLimit: 10, stepLimit: 10 }, Date.now())

  async function report(lease: string, exitCode: number): Promise<boolean> {
    const answer = await world.client.json<{ accepted: boolean }>('POST', '/leases/exit', 200, {
      lease,
      exitCode,
      signal: null,
      timedOut: false,
      stdout: `exit ${exitCode}\n`,
      stderr: '',
      startedAt: Date.now() - 10,
    })
    return answer.accepted
  }

  it('records each exit once, refuses the repeat, and calls the flow back once per stage', async () => {
    const runId = await world.trigger({})
    const scheduleAs = (name: string, final: boolean, ids: string[]) =>
      world.client.json(
        'POST',
        `/runs/${runId}/steps`,
        201,
        stage(
          name,
          final,
          ids.map((id) => work(id)),
        ),
      )

    // The first flow call: schedule what flow.sh would, then report its exit twice.
    const first = await claim()
    expect(first.flowCalls.map((call) => call.runId)).toEqual([runId])
    await scheduleAs('first', false, ['a', 'b'])
    expect(await report(first.flowCalls[0]!.lease, 0)).toBe(true)
    expect(await report(first.flowCalls[0]!.lease, 0)).toBe(false)

    const steps = await claim()
    expect(steps.flowCalls).toEqual([])
    const lease = new Map(steps.steps.map((step) => [step.stepId, step.lease]))
    expect([...lease.keys()].sort()).toEqual(['a', 'b'])
    await world.client.json('POST', `/runs/${runId}/steps/a/fields`, 200, { fields: { before: 1 } })

    // a: twice in a row, then a stale failure with the same token.
    expect(await report(lease.get('a')!, 0)).toBe(true)
    expect(await report(lease.get('a')!, 0)).toBe(false)
    expect(await report(lease.get('a')!, 1)).toBe(false)
    expect(await world.client.getStep(runId, 'a')).toMatchObject({ status: 'completed', exitCode: 0 })

    // b, the stage's last step: two deliveries at once, exactly one wins.
    const raced = await Promise.all([report(lease.get('b')!, 0), report(lease.get('b')!, 0)])
    expect(raced.sort()).toEqual([false, true])

    // One stage end, so one callback: claimed once, and nothing more to claim.
    const callbacks = await claim()
    expect(callbacks.steps).toEqual([])
    expect(callbacks.flowCalls.map((call) => call.completedStage)).toEqual(['first'])
    expect((await claim()).flowCalls).toEqual([])

    for (const id of ['a', 'b']) {
      const step = await world.client.getStep(runId, id)
      expect(step).toMatchObject({ status: 'completed', exitCode: 0, attempt: 1 })
      if (step.attempts !== undefined) expect(step.attempts).toHaveLength(1)
    }
    expect((await world.client.fields(runId)).get('a')).toMatchObject({ before: 1 })

    // The final stage, with its reports doubled too; the run completes once.
    await scheduleAs('second', true, ['c'])
    expect(await report(callbacks.flowCalls[0]!.lease, 0)).toBe(true)
    expect(await report(callbacks.flowCalls[0]!.lease, 0)).toBe(false)
    const last = await claim()
    expect(last.steps.map((step) => step.stepId)).toEqual(['c'])
    const final = await Promise.all([report(last.steps[0]!.lease, 0), report(last.steps[0]!.lease, 0)])
    expect(final.sort()).toEqual([false, true])

    const run = await world.client.getRun(runId)
    expect(run.status).toBe('completed')
    expect((await claim()).flowCalls).toEqual([])
    const calls = await world.client.flowCalls(runId)
    expect(calls.map((call) => [call.completedStage, call.status, call.exitCode])).toEqual([
      [null, 'completed', 0],
      ['first', 'completed', 0],
    ])
    // A late repeat after the run ended changes nothing either.
    expect(await report(lease.get('b')!, 1)).toBe(false)
    expect((await world.client.getStep(runId, 'b')).status).toBe('completed')
    expect((await world.client.getRun(runId)).status).toBe('completed')
  })
})
