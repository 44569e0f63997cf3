// GET /metrics through the app (real SQLite): who may scrape it, with and without
// MAXQ_METRICS_PUBLIC, and what a scrape holds. Counts against a real run are in
// test/e2e/metrics.test.ts.

import { afterEach, describe, expect, it } from 'vitest'
import { runTokens } from '../../security/run-token.js'
import { createHandlerApp, expectApiError, type HandlerApp } from '../support/handler-app.js'
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js'

const API_TOKEN = 'test-api-token-0123456789abcdef'
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

let api: HandlerApp
afterEach(async () => {
  await api.close()
})

describe('GET /metrics', () => {
  it('needs the API token where MAXQ_API_TOKEN is set; a run token is refused', async () => {
    api = await createHandlerApp({ apiToken: API_TOKEN })
    expectApiError(await api.send('GET', '/metrics'), 401, 'UNAUTHORIZED')
    const run = await api.send(
      'POST',
      '/api/v1/flows/hello/runs',
      {},
      {
        headers: { 'Content-Type': 'application/json', ...bearer(API_TOKEN) },
      },
    )
    const token = runTokens(await api.store.runTokenKey()).issue((run.body as { id: string }).id)
    expectApiError(await api.send('GET', '/metrics', undefined, { headers: bearer(token) }), 403, 'FORBIDDEN')
    const res = await api.send('GET', '/metrics', undefined, { headers: bearer(API_TOKEN) })
    expect(res.status).toBe(200)
    expect(sampleValue(parsePrometheusText(String(res.body)), 'maxq_runs', { status: 'pending' })).toBe(1)
  })

  it('is open to anyone with MAXQ_METRICS_PUBLIC, and only /metrics is', async () => {
    api = await createHandlerApp({ apiToken: API_TOKEN, metricsPublic: true })
    const res = await api.send('GET', '/metrics')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    expectApiError(await api.send('GET', '/api/v1/runs'), 401, 'UNAUTHORIZED')
  })

  it('holds every metric docs/observability.md lists, each with HELP and TYPE', async () => {
    api = await createHandlerApp()
    await api.send('GET', '/no/such/route')
    const text = String((await api.send('GET', '/metrics')).body)
    const samples = parsePrometheusText(text)
    for (const name of [
      'maxq_runs',
      'maxq_open_run_steps',
      'maxq_queue_depth',
      'maxq_recent_run_duration_seconds_bucket',
      'maxq_http_requests_total',
      'maxq_http_request_duration_seconds_bucket',
    ]) {
      expect(
        samples.some((sample) => sample.name === name),
        name,
      ).toBe(true)
    }
    for (const name of [
      'maxq_tick_duration_seconds',
      'maxq_claim_duration_seconds',
      'maxq_leases_reaped_total',
      'maxq_attempt_duration_seconds',
    ]) {
      expect(text, name).toContain(`# TYPE ${name} `)
    }
    expect(
      sampleValue(samples, 'maxq_http_requests_total', { route: 'unmatched', status: '404' }),
    ).toBeGreaterThan(0)
    // Per process: a `process` label; from the database: none (every API process says the same).
    expect(samples.find((s) => s.name === 'maxq_http_requests_total')?.labels.process).toMatch(/^.+:\d+$/)
    expect(samples.find((s) => s.name === 'maxq_runs')?.labels.process).toBeUndefined()
  })
})
