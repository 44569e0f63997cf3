// MAXQ_METRICS_PORT: in the production shape (`maxq serve` and `maxq tick --watch` as separate
// processes) the tick process's own counters (ticks, claims, the attempt ends its supervisor
// recorded) are on its own port, since the API never sees them; same token rule as the API's.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sqliteDatabase } from '../support/dialects.js'
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js'
import { freePort } from '../support/start-server.js'
import { startTick, stopTick, type TickProcess } from '../support/tick-process.js'
import { probe, stage, startE2eServer, type E2eServer } from './e2e-server.js'

const API_TOKEN = 'worker-metrics-token-0123456789ab'

describe('maxq tick --watch with MAXQ_METRICS_PORT', () => {
  let e2e: E2eServer
  let tick: TickProcess
  let metricsUrl: string

  beforeAll(async () => {
    e2e = await startE2eServer(sqliteDatabase, {
      args: ['bin/maxq.js', 'serve'],
      env: { MAXQ_API_TOKEN: API_TOKEN },
    })
    const port = await freePort()
    tick = startTick({ ...e2e.server.env, MAXQ_METRICS_PORT: String(port) })
    metricsUrl = `http://127.0.0.1:${port}/metrics`
  })

  afterAll(async () => {
    if (tick) await stopTick(tick)
    await e2e?.close()
  })

  it("serves the tick process's ticks, claims and attempt ends, behind the API token", async () => {
    const runId = await e2e.trigger({ start: { post: [stage('only', true, [probe('one'), probe('two')])] } })
    await e2e.waitForRun(runId, ['completed']).catch((error: unknown) => {
      throw new Error(`${String(error)}\n--- tick --watch ---\n${tick.output()}`)
    })
    expect(tick.output()).toMatch(/metrics on http:\/\/127\.0\.0\.1:\d+\/metrics/)

    const refused = await fetch(metricsUrl)
    expect(refused.status).toBe(401)
    expect(await refused.json()).toMatchObject({ code: 'UNAUTHORIZED' })

    const res = await fetch(metricsUrl, { headers: { authorization: `Bearer ${API_TOKEN}` } })
    expect(res.status).toBe(200)
    const samples = parsePrometheusText(await res.text())
    expect(sampleValue(samples, 'maxq_attempt_duration_seconds_count', { kind: 'step', result: 'ok' })).toBe(
      2,
    )
    expect(sampleValue(samples, 'maxq_tick_duration_seconds_count')).toBeGreaterThan(0)
    expect(sampleValue(samples, 'maxq_claim_duration_seconds_count')).toBeGreaterThan(0)
    const process = samples.find((s) => s.name === 'maxq_tick_duration_seconds_count')?.labels.process
    expect(process).toBe(`${process?.split(':')[0]}:${tick.pid}`)
  })
})
