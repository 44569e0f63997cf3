// The event stream end to end (docs/events.md): a real server runs real bash flows while the tests
// read GET /runs/{run}/events and GET /events with fetch. The events must end in the states the
// API's views show, per entity in order; a resume misses nothing; a run token reads its own run.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testDatabases } from '../support/dialects.js'
import { openSse, type SseEvent } from '../support/read-sse.js'
import { probe, stage, startE2eServer, type E2eServer, type FlowCalls } from './e2e-server.js'

const API_TOKEN = 'events-test-token'
const ADMIN = { authorization: `Bearer ${API_TOKEN}` }
const EVENT_NAMES = ['run', 'stage', 'step', 'flow_call']

/** Two stages, a dependency, and a step that fails once and is retried. */
const RETRIED: FlowCalls = {
  start: { post: [stage('first', false, [probe('a'), probe('b', { dependsOn: ['a'] })])] },
  'completed:first': {
    post: [stage('second', true, [probe('c', { maxRetries: 1, env: { FAIL_TIMES: '1' } })])],
  },
}

interface Data {
  runId: string
  status: string
  at: number
  stage?: string
  stepId?: string
  callId?: number
  attempt?: number
  exitCode?: number
}

const data = (event: SseEvent): Data => JSON.parse(event.data) as Data

function entity(event: SseEvent): string {
  const d = data(event)
  if (event.event === 'run') return `run:${d.runId}`
  if (event.event === 'stage') return `stage:${d.stage}`
  if (event.event === 'step') return `step:${d.stepId}`
  return `flow_call:${String(d.callId)}`
}

/** Each entity's last state, as the stream told it. */
function lastStates(events: SseEvent[]): Map<string, Data> {
  const states = new Map<string, Data>()
  for (const event of events) states.set(entity(event), data(event))
  return states
}

describe.each(testDatabases)('event stream ($name)', (database) => {
  let e2e: E2eServer

  beforeAll(async () => {
    e2e = await startE2eServer(database, { env: { MAXQ_API_TOKEN: API_TOKEN } })
  })

  afterAll(async () => {
    await e2e?.close()
  })

  const url = (path: string) => `${e2e.server.apiBase}${path}`

  /** The stream's events agree with GET /runs/{run}, /steps and /flow-calls at the end. */
  async function expectMatchesViews(runId: string, events: SseEvent[]): Promise<void> {
    const states = lastStates(events)
    const run = await e2e.getRun(runId)
    expect(states.get(`run:${runId}`)?.status).toBe(run.status)
    for (const s of run.stages) expect(states.get(`stage:${s.name}`)?.status, s.name).toBe(s.status)
    for (const step of await e2e.getSteps(runId)) {
      const told = states.get(`step:${step.id}`)
      expect(told, step.id).toMatchObject({ status: step.status, attempt: step.attempt, stage: step.stage })
      if (step.exitCode !== null) expect(told?.exitCode).toBe(step.exitCode)
    }
    const { flowCalls } = await e2e.expectJson<{ flowCalls: { id: number; status: string }[] }>(
      'GET',
      `/runs/${runId}/flow-calls`,
      200,
    )
    for (const call of flowCalls) expect(states.get(`flow_call:${call.id}`)?.status).toBe(call.status)
  }

  it("streams a run's changes, in order per entity, and ends after its final run event", async () => {
    const runId = await e2e.trigger(RETRIED)
    const stream = await openSse(url(`/runs/${runId}/events`), ADMIN)
    expect(stream.status).toBe(200)
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const events = await stream.readToEnd()
    expect(stream.retries).toEqual([2000])

    for (const event of events) {
      expect(EVENT_NAMES).toContain(event.event)
      expect(event.id).toMatch(/^\d+-\d+$/)
      expect(data(event).runId).toBe(runId)
    }
    const last = events.at(-1)
    expect(last?.event).toBe('run')
    expect(data(last as SseEvent)).toMatchObject({ status: 'completed', completedAt: expect.any(Number) })
    // Per entity, states come in the order they happened: `at` never goes back, and no state repeats
    // right after itself.
    const byEntity = new Map<string, Data[]>()
    for (const event of events)
      byEntity.set(entity(event), [...(byEntity.get(entity(event)) ?? []), data(event)])
    for (const [key, states] of byEntity) {
      for (let i = 1; i < states.length; i++) {
        expect(states[i]!.at, key).toBeGreaterThanOrEqual(states[i - 1]!.at)
        expect(states[i], key).not.toEqual(states[i - 1])
      }
    }
    // The retried step's second attempt was told.
    expect(byEntity.get('step:c')?.at(-1)).toMatchObject({ status: 'completed', attempt: 2, exitCode: 0 })
    await expectMatchesViews(runId, events)

    // Resumed after the final event, there is nothing more: 204 stops an EventSource.
    const again = await openSse(url(`/runs/${runId}/events`), { ...ADMIN, 'last-event-id': last?.id ?? '' })
    expect(again.status).toBe(204)
  })

  it('resumes from Last-Event-ID or ?after= without missing a change', async () => {
    const runId = await e2e.trigger(RETRIED)
    const first = await openSse(url(`/runs/${runId}/events`), ADMIN)
    const before = await first.readUntil((event) => event.event === 'step')
    first.close()
    const resumeAt = before.at(-1)?.id ?? ''
    await e2e.waitForRun(runId, ['completed'])

    const byHeader = await openSse(url(`/runs/${runId}/events`), { ...ADMIN, 'last-event-id': resumeAt })
    const resumed = await byHeader.readToEnd()
    const byQuery = await openSse(url(`/runs/${runId}/events?after=${encodeURIComponent(resumeAt)}`), ADMIN)
    expect(lastStates(await byQuery.readToEnd())).toEqual(lastStates(resumed))

    await expectMatchesViews(runId, [...before, ...resumed])
    // What the resume sends again is only an entity's state as the first stream last told it
    // (docs/events.md: the overlap window), never an older one.
    const told = lastStates(before)
    for (const event of resumed) {
      const earlier = told.get(entity(event))
      if (earlier !== undefined) expect(data(event).at).toBeGreaterThanOrEqual(earlier.at)
    }
  })

  it('streams every run on /events, from about now', async () => {
    const stream = await openSse(url('/events'), ADMIN)
    expect(stream.status).toBe(200)
    const runId = await e2e.trigger(RETRIED)
    const events = await stream.readUntil(
      (event) => event.event === 'run' && data(event).runId === runId && data(event).status === 'completed',
    )
    stream.close()
    await expectMatchesViews(
      runId,
      events.filter((event) => data(event).runId === runId),
    )
  })

  it('answers 404 for an unknown run and 400 for an id it never sent', async () => {
    const unknown = await openSse(url('/runs/no-such-run/events'), ADMIN)
    expect(unknown.status).toBe(404)
    expect(JSON.parse(unknown.text)).toMatchObject({ code: 'RUN_NOT_FOUND' })
    const bad = await openSse(url('/events'), { ...ADMIN, 'last-event-id': 'nope' })
    expect(bad.status).toBe(400)
    expect(JSON.parse(bad.text)).toMatchObject({ code: 'VALIDATION_FAILED' })
    const noToken = await openSse(url('/events'))
    expect(noToken.status).toBe(401)
  })

  it("lets a run token read its own run's stream, and no other", async () => {
    const held: FlowCalls = { start: { post: [stage('only', true, [probe('h', { env: { HOLD: '1' } })])] } }
    const own = await e2e.trigger(held)
    const other = await e2e.trigger(held)
    await e2e.waitForOut(own, 'holding-h')
    const token = e2e.stepRecords(own, 'h')[0]?.env.MAXQ_TOKEN ?? ''
    expect(token).toMatch(/^maxq-run\./)
    const asRun = { authorization: `Bearer ${token}` }

    const mine = await openSse(url(`/runs/${own}/events`), asRun)
    expect(mine.status).toBe(200)
    expect(await mine.readUntil((event) => event.event === 'step')).not.toHaveLength(0)
    mine.close()
    expect((await openSse(url(`/runs/${other}/events`), asRun)).status).toBe(403)
    expect((await openSse(url('/events'), asRun)).status).toBe(403)

    for (const runId of [own, other]) {
      await e2e.waitForOut(runId, 'holding-h')
      e2e.writeOut(runId, 'release-h', '')
      await e2e.waitForRun(runId, ['completed'])
    }
  })
})
