// The event stream across processes (docs/events.md): two `maxq serve` API processes and a
// `maxq tick --watch` on one PostgreSQL. A run triggered through API A and driven by the tick is
// streamed by API B, which made none of its changes: B learns of them from the database alone.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { postgresDatabase } from '../support/dialects.js'
import { openSse, type SseEvent } from '../support/read-sse.js'
import { startServer, type RunningServer } from '../support/start-server.js'
import { startTick, stopTick, type TickProcess } from '../support/tick-process.js'
import { FLOWS_ROOT, probe, stage, startE2eServer, type E2eServer, type FlowCalls } from './e2e-server.js'

const CALLS: FlowCalls = {
  start: { post: [stage('first', false, [probe('a'), probe('b', { dependsOn: ['a'] })])] },
  'completed:first': { post: [stage('second', true, [probe('c')])] },
}

const data = (event: SseEvent) => JSON.parse(event.data) as { runId: string; status: string; stepId?: string }

describe('event stream across two API processes (postgres)', () => {
  let a: E2eServer
  let b: RunningServer
  let tick: TickProcess

  beforeAll(async () => {
    a = await startE2eServer(postgresDatabase, { args: ['bin/maxq.js', 'serve'] })
    const { MAXQ_DATABASE_URL = '', E2E_OUT = '', MAXQ_PASSTHROUGH_ENV = '' } = a.server.env
    b = await startServer({
      flowsRoot: FLOWS_ROOT,
      databaseEnv: { MAXQ_DATABASE_URL },
      env: { E2E_OUT, MAXQ_PASSTHROUGH_ENV },
      args: ['bin/maxq.js', 'serve'],
    })
    tick = startTick(a.server.env)
  })

  afterAll(async () => {
    if (tick !== undefined) await stopTick(tick)
    await b?.stop()
    await a?.close()
  })

  it('streams on B a run driven through A and a tick loop', async () => {
    const all = await openSse(`${b.apiBase}/events`)
    expect(all.status).toBe(200)
    const runId = await a.trigger(CALLS)
    const one = await openSse(`${b.apiBase}/runs/${runId}/events`)
    const fromRun = await one.readToEnd()
    const fromAll = await all.readUntil(
      (event) => data(event).runId === runId && data(event).status === 'completed' && event.event === 'run',
    )
    all.close()

    const steps = await a.getSteps(runId)
    for (const events of [fromRun, fromAll.filter((event) => data(event).runId === runId)]) {
      expect(events.at(-1)?.event).toBe('run')
      expect(data(events.at(-1) as SseEvent).status).toBe('completed')
      const last = new Map(
        events.filter((e) => e.event === 'step').map((e) => [data(e).stepId, data(e).status]),
      )
      expect(Object.fromEntries(last)).toEqual(Object.fromEntries(steps.map((s) => [s.id, s.status])))
    }
  })
})
