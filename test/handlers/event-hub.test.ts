// The event hub against real stores (docs/events.md): a change stamped before the hub's last read
// but committed after it (another process's clock read before its commit) is still streamed; a
// step's states are never told out of order; a run's stream ends after its final run event.

import { beforeEach, describe, expect, it } from 'vitest'
import type { Store } from '../../db/store.js'
import { EventHub, type StreamEvent } from '../../handlers/events/event-hub.js'
import { testDatabases } from '../support/dialects.js'
import { claimFlowCall, reportExit } from '../support/drive-run.js'
import { storePerTest } from '../support/store-per-test.js'
import { waitFor } from '../support/wait-for.js'

interface Heard {
  events: StreamEvent[]
  ended: boolean
}

function listen(
  hub: EventHub,
  runId: string | null,
  after: number | null = null,
): { heard: Heard; stop: () => void } {
  const heard: Heard = { events: [], ended: false }
  const stop = hub.subscribe({
    runId,
    after,
    deliver: async (events) => {
      heard.events.push(...events)
    },
    end: () => (heard.ended = true),
  })
  return { heard, stop }
}

const stepStates = (heard: Heard, stepId: string) =>
  heard.events.flatMap((e) => (e.event === 'step' && e.data.stepId === stepId ? [e.data] : []))

describe.each(testDatabases)('event hub ($name)', (database) => {
  let store: Store
  let hub: EventHub
  storePerTest(database, (opened) => (store = opened))

  beforeEach(() => {
    hub = new EventHub(store, { fallbackPollMs: 50, logger: () => undefined })
  })

  async function startedRun(): Promise<{ runId: string; flowLease: string }> {
    const run = await store.createRun({ flowName: 'f' }, Date.now())
    const call = await claimFlowCall(store, run.id)
    const scheduled = await store.scheduleStage(
      run.id,
      {
        stage: 'main',
        final: true,
        steps: [
          { id: 'a', name: 'a' },
          { id: 'b', name: 'b' },
        ],
      },
      Date.now(),
    )
    expect(scheduled.ok).toBe(true)
    return { runId: run.id, flowLease: call.lease }
  }

  it('streams a change committed after a read that came later than its timestamp', async () => {
    const { runId, flowLease } = await startedRun()
    await reportExit(store, flowLease, 0)
    const [step] = await store.claimReadySteps({ workerId: 'w', limit: 1 }, Date.now())
    const { heard, stop } = listen(hub, null)
    // A read that began after this moment has answered.
    await waitFor(() => hub.stats.reads >= 2, { timeoutMs: 10_000 })
    const readsBefore = hub.stats.reads
    await waitFor(() => hub.stats.reads >= readsBefore + 1, { timeoutMs: 10_000 })
    // An exit stamped 3 s ago, committing now: as a slow transaction of another process would.
    const outcome = await store.recordExit(
      { lease: step!.lease, exitCode: 0, signal: null, timedOut: false, stdout: '', stderr: '' },
      Date.now() - 3000,
    )
    expect(outcome.accepted).toBe(true)
    await waitFor(() => stepStates(heard, step!.stepId).some((s) => s.status === 'completed'), {
      timeoutMs: 10_000,
      message: 'the late-committed exit was never streamed',
    })
    expect(heard.events.every((e) => e.data.runId === runId)).toBe(true)
    stop()
    expect(hub.stats).toMatchObject({ listeners: 0, active: false })
  })

  it("tells each step's states in order and ends a run's stream after its final event", async () => {
    const { runId, flowLease } = await startedRun()
    const { heard, stop } = listen(hub, runId)
    await reportExit(store, flowLease, 0)
    for (let i = 0; i < 2; i++) {
      const [step] = await store.claimReadySteps({ workerId: 'w', limit: 1 }, Date.now())
      await waitFor(() => stepStates(heard, step!.stepId).some((s) => s.status === 'running'), {
        timeoutMs: 10_000,
      })
      await reportExit(store, step!.lease, 0)
    }
    // The run's callback after its final stage, if it has one, then the end.
    await waitFor(
      async () => {
        const calls = await store.claimFlowCalls({ workerId: 'w', limit: 1 }, Date.now())
        for (const call of calls) await reportExit(store, call.lease, 0)
        return heard.ended
      },
      { timeoutMs: 10_000, message: "the run's stream did not end" },
    )
    stop()

    const last = heard.events.at(-1)
    expect(last?.event).toBe('run')
    expect(last?.data.status).toBe('completed')
    for (const stepId of ['a', 'b']) {
      const statuses = stepStates(heard, stepId).map((s) => s.status)
      expect(statuses.at(-1)).toBe('completed')
      // pending, running, completed: some may be coalesced, none told out of order.
      const order = ['pending', 'running', 'completed']
      expect([...statuses].sort((x, y) => order.indexOf(x) - order.indexOf(y))).toEqual(statuses)
    }
    // Resumed from its last event, the run's stream has nothing more: it ends at once, empty.
    const position = Number(last?.id.split('-')[0])
    const again = listen(hub, runId, position)
    await waitFor(() => again.heard.ended, { timeoutMs: 10_000 })
    again.stop()
    expect(hub.stats).toMatchObject({ listeners: 0, active: false })
    expect(again.heard.events.filter((e) => e.event !== 'run' || e.data.status !== 'completed')).toEqual([])
  })
})
