// GET /metrics scraped from a real server while real bash flows run: the database's counts agree
// with what the API lists, the worker's own histograms fill, HTTP requests are counted by route
// pattern, and the text parses. Behind MAXQ_API_TOKEN here (MAXQ_METRICS_PUBLIC is in
// test/handlers/metrics.test.ts).

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RUN_STATUSES, STEP_STATUSES } from '../../db/types.js'
import { sqliteDatabase, testDatabases } from '../support/dialects.js'
import { parsePrometheusText, sampleValue, type Sample } from '../support/prometheus-text.js'
import { waitFor } from '../support/wait-for.js'
import { probe, stage, startE2eServer, type E2eServer } from './e2e-server.js'

const API_TOKEN = 'metrics-e2e-token-0123456789abcd'
const OPEN_STATUSES = ['pending', 'running', 'paused']

describe.each(testDatabases)('GET /metrics on a real server ($name)', (database) => {
  let e2e: E2eServer

  beforeAll(async () => {
    e2e = await startE2eServer(database, { env: { MAXQ_API_TOKEN: API_TOKEN } })
  })

  afterAll(async () => {
    await e2e?.close()
  })

  async function scrape(): Promise<Sample[]> {
    const res = await fetch(`${e2e.server.baseUrl}/metrics`, {
      headers: { authorization: `Bearer ${API_TOKEN}` },
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    return parsePrometheusText(await res.text())
  }

  const total = async (url: string): Promise<number> =>
    (await e2e.expectJson<{ pagination: { total: number } }>('GET', url, 200)).pagination.total

  /** Runs by status and open runs' steps by status, as the API lists them. */
  async function apiCounts(): Promise<{ runs: Record<string, number>; steps: Record<string, number> }> {
    const runs: Record<string, number> = {}
    for (const status of RUN_STATUSES) runs[status] = await total(`/runs?status=${status}`)
    const open: string[] = []
    for (const status of OPEN_STATUSES) {
      const page = await e2e.expectJson<{ runs: Array<{ id: string }> }>(
        'GET',
        `/runs?status=${status}&limit=100`,
        200,
      )
      open.push(...page.runs.map((run) => run.id))
    }
    const steps: Record<string, number> = {}
    for (const status of STEP_STATUSES) {
      steps[status] = 0
      for (const runId of open) steps[status] += await total(`/runs/${runId}/steps?status=${status}&limit=1`)
    }
    return { runs, steps }
  }

  function metricCounts(samples: Sample[]): { runs: Record<string, number>; steps: Record<string, number> } {
    return {
      runs: Object.fromEntries(
        RUN_STATUSES.map((status) => [status, sampleValue(samples, 'maxq_runs', { status })]),
      ),
      steps: Object.fromEntries(
        STEP_STATUSES.map((status) => [status, sampleValue(samples, 'maxq_open_run_steps', { status })]),
      ),
    }
  }

  it('needs the API token, like the rest of the API', async () => {
    const res = await fetch(`${e2e.server.baseUrl}/metrics`)
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ code: 'UNAUTHORIZED' })
  })

  it("agrees with the API's counts during a run and after it, and fills the worker's histograms", async () => {
    const done = await e2e.trigger({ start: { post: [stage('quick', true, [probe('q1'), probe('q2')])] } })
    await e2e.waitForRun(done, ['completed'])
    const runId = await e2e.trigger({
      start: {
        post: [
          stage('work', true, [
            probe('h1', { env: { HOLD: '1' } }),
            probe('h2', { env: { HOLD: '1' } }),
            probe('after', { dependsOn: ['h1'] }),
          ]),
        ],
      },
    })
    await e2e.waitForOut(runId, 'holding-h1')
    await e2e.waitForOut(runId, 'holding-h2')
    // The flow call that scheduled the stage has ended too: nothing changes until the release.
    await waitForFlowCallsDone(runId)

    const during = await scrape()
    expect(metricCounts(during)).toEqual(await apiCounts())
    expect(sampleValue(during, 'maxq_runs', { status: 'running' })).toBe(1)
    expect(sampleValue(during, 'maxq_queue_depth', { kind: 'step', state: 'running' })).toBe(2)
    expect(sampleValue(during, 'maxq_queue_depth', { kind: 'step', state: 'waiting' })).toBe(1)
    expect(sampleValue(during, 'maxq_queue_depth', { kind: 'step', state: 'ready' })).toBe(0)
    expect(sampleValue(during, 'maxq_queue_depth', { kind: 'flow_call', state: 'running' })).toBe(0)

    e2e.writeOut(runId, 'release-h1', '')
    e2e.writeOut(runId, 'release-h2', '')
    await e2e.waitForRun(runId, ['completed'])
    const after = await scrape()
    expect(metricCounts(after)).toEqual(await apiCounts())
    expect(sampleValue(after, 'maxq_runs', { status: 'completed' })).toBe(2)
    expect(sampleValue(after, 'maxq_open_run_steps')).toBe(0)
    expect(sampleValue(after, 'maxq_recent_run_duration_seconds_count', { status: 'completed' })).toBe(2)
    expect(
      sampleValue(after, 'maxq_recent_run_duration_seconds_bucket', { status: 'completed', le: '+Inf' }),
    ).toBe(2)

    // The local runner's worker recorded its ticks, claims and the five steps' ends (two flow calls too).
    expect(sampleValue(after, 'maxq_attempt_duration_seconds_count', { kind: 'step', result: 'ok' })).toBe(5)
    expect(
      sampleValue(after, 'maxq_attempt_duration_seconds_count', { kind: 'flow_call', result: 'ok' }),
    ).toBe(2)
    expect(sampleValue(after, 'maxq_tick_duration_seconds_count')).toBeGreaterThan(0)
    expect(sampleValue(after, 'maxq_claim_duration_seconds_count')).toBeGreaterThan(0)
    const processes = new Set(
      after.filter((s) => s.name === 'maxq_tick_duration_seconds_count').map((s) => s.labels.process),
    )
    expect([...processes]).toEqual([expect.stringMatching(/^.+:\d+$/)])
  })

  it('counts HTTP requests by route pattern and status, never by raw path', async () => {
    const runId = await e2e.trigger({ start: { post: [stage('one', true, [probe('only')])] } })
    await e2e.waitForRun(runId, ['completed'])
    const route = { method: 'GET', route: '/api/v1/runs/:runId', status: '200' }
    const missing = { method: 'GET', route: '/api/v1/runs/:runId', status: '404' }
    const before = await scrape()
    for (let i = 0; i < 3; i++) await e2e.expectJson('GET', `/runs/${runId}`, 200)
    expect((await e2e.request('GET', '/runs/no-such-run')).status).toBe(404)
    const after = await scrape()
    expect(
      sampleValue(after, 'maxq_http_requests_total', route) -
        sampleValue(before, 'maxq_http_requests_total', route),
    ).toBe(3)
    expect(
      sampleValue(after, 'maxq_http_requests_total', missing) -
        sampleValue(before, 'maxq_http_requests_total', missing),
    ).toBe(1)
    const routes = new Set(
      after.filter((s) => s.name === 'maxq_http_requests_total').map((s) => s.labels.route),
    )
    expect([...routes].filter((r) => r?.includes(runId) || r?.includes('no-such-run'))).toEqual([])
    expect(routes).toContain('/api/v1/runs/:runId/steps')
    expect(routes).toContain('/metrics')
  })

  async function waitForFlowCallsDone(runId: string): Promise<void> {
    await waitFor(
      async () => {
        const { flowCalls } = await e2e.expectJson<{ flowCalls: Array<{ status: string }> }>(
          'GET',
          `/runs/${runId}/flow-calls`,
          200,
        )
        return flowCalls.length > 0 && flowCalls.every((call) => call.status === 'completed')
      },
      { timeoutMs: 30_000, intervalMs: 50, message: `the flow calls of ${runId} did not end` },
    )
  }
})

describe('GET /metrics while a fan-out waits for slots', () => {
  let e2e: E2eServer

  beforeAll(async () => {
    e2e = await startE2eServer(sqliteDatabase, { env: { MAXQ_MAX_CONCURRENT_STEPS: '3' } })
  })

  afterAll(async () => {
    await e2e?.close()
  })

  it('says how much work is ready, running and waiting, as the API lists it', async () => {
    const ids = Array.from({ length: 24 }, (_, i) => `fan-${i}`)
    const runId = await e2e.trigger({
      start: {
        post: [stage('fan', false, [...ids.map((id) => probe(id, { env: { HOLD: '1' } }))])],
      },
      'completed:fan': { post: [stage('join', true, [probe('join')])] },
    })
    const holding = (): string[] => ids.filter((id) => e2e.outExists(runId, `holding-${id}`))
    await waitFor(() => holding().length === 3, { timeoutMs: 30_000, intervalMs: 50, message: 'three held' })

    const res = await fetch(`${e2e.server.baseUrl}/metrics`)
    const samples = parsePrometheusText(await res.text())
    const total = async (status: string): Promise<number> =>
      (
        await e2e.expectJson<{ pagination: { total: number } }>(
          'GET',
          `/runs/${runId}/steps?status=${status}&limit=1`,
          200,
        )
      ).pagination.total
    expect(sampleValue(samples, 'maxq_queue_depth', { kind: 'step', state: 'running' })).toBe(
      await total('running'),
    )
    expect(sampleValue(samples, 'maxq_queue_depth', { kind: 'step', state: 'running' })).toBe(3)
    expect(sampleValue(samples, 'maxq_queue_depth', { kind: 'step', state: 'ready' })).toBe(
      await total('pending'),
    )
    expect(sampleValue(samples, 'maxq_queue_depth', { kind: 'step', state: 'ready' })).toBe(21)
    expect(sampleValue(samples, 'maxq_queue_depth', { kind: 'step', state: 'waiting' })).toBe(0)

    // Released as they start, three at a time, the fan-out and its join complete.
    const released = new Set<string>()
    await waitFor(
      async () => {
        for (const id of holding()) {
          if (!released.has(id)) e2e.writeOut(runId, `release-${id}`, '')
          released.add(id)
        }
        return (await e2e.getRun(runId)).status === 'completed'
      },
      { timeoutMs: 120_000, intervalMs: 100, message: `run ${runId} did not complete` },
    )
    const after = parsePrometheusText(await (await fetch(`${e2e.server.baseUrl}/metrics`)).text())
    expect(sampleValue(after, 'maxq_open_run_steps')).toBe(0)
    expect(sampleValue(after, 'maxq_runs', { status: 'completed' })).toBe(1)
  })
})
