// End to end: every 400 and 404 of the HTTP contract through the real server, and the one error
// shape `{error, code, details}`. Scheduling errors are sent to a live run whose first stage is
// held open by its step, as a flow's own curl would send them.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testDatabases } from '../support/dialects.js'
import {
  expectApiError,
  FLOW,
  probe,
  stage,
  startE2eServer,
  type E2eServer,
  type RunView,
} from './e2e-server.js'

const NO_SUCH_RUN = '00000000-0000-4000-8000-000000000000'

describe.each(testDatabases)('e2e HTTP errors ($name)', (database) => {
  let e2e: E2eServer
  /** A running run whose stage `held` (steps `h`, `k`) stays open until the end of the file. */
  let live: string

  beforeAll(async () => {
    e2e = await startE2eServer(database)
    live = await e2e.trigger({
      start: { post: [stage('held', false, [probe('h', { env: { HOLD: '1' } }), probe('k')])] },
    })
    await e2e.waitForOut(live, 'holding-h')
  })

  afterAll(async () => {
    if (live) e2e?.writeOut(live, 'release-h', '')
    await e2e?.close()
  })

  const schedule = (body: unknown) => e2e.request('POST', `/runs/${live}/steps`, body)

  it('answers 404 for an unknown flow, run, step and route', async () => {
    expectApiError(await e2e.request('POST', '/flows/no_such_flow/runs', {}), 404, 'FLOW_NOT_FOUND')
    expectApiError(await e2e.request('GET', '/flows/no_such_flow'), 404, 'FLOW_NOT_FOUND')
    expectApiError(await e2e.request('POST', '/runs', { flowName: 'no_such_flow' }), 404, 'FLOW_NOT_FOUND')
    expectApiError(await e2e.request('GET', `/runs/${NO_SUCH_RUN}`), 404, 'RUN_NOT_FOUND')
    expectApiError(await e2e.request('GET', `/runs/${NO_SUCH_RUN}/steps`), 404, 'RUN_NOT_FOUND')
    expectApiError(await e2e.request('GET', `/runs/${NO_SUCH_RUN}/fields`), 404, 'RUN_NOT_FOUND')
    expectApiError(await e2e.request('GET', `/runs/${NO_SUCH_RUN}/logs`), 404, 'RUN_NOT_FOUND')
    expectApiError(await e2e.request('POST', `/runs/${NO_SUCH_RUN}/abort`), 404, 'RUN_NOT_FOUND')
    expectApiError(await e2e.request('POST', `/runs/${NO_SUCH_RUN}/retry`), 404, 'RUN_NOT_FOUND')
    expectApiError(await e2e.request('POST', `/runs/${NO_SUCH_RUN}/pause`), 404, 'RUN_NOT_FOUND')
    expectApiError(await e2e.request('POST', `/runs/${NO_SUCH_RUN}/resume`), 404, 'RUN_NOT_FOUND')
    expectApiError(await e2e.request('PATCH', `/runs/${NO_SUCH_RUN}`, { name: 'x' }), 404, 'RUN_NOT_FOUND')
    expectApiError(
      await e2e.request('POST', `/runs/${NO_SUCH_RUN}/steps`, stage('s', true, [probe('a')])),
      404,
      'RUN_NOT_FOUND',
    )
    expectApiError(
      await e2e.request('POST', `/runs/${NO_SUCH_RUN}/logs`, { level: 'info', message: 'x' }),
      404,
      'RUN_NOT_FOUND',
    )
    expectApiError(await e2e.request('GET', `/runs/${live}/steps/no-such-step`), 404, 'STEP_NOT_FOUND')
    const route = await e2e.request('GET', '/no/such/route')
    expect(route.status).toBe(404)
    expectApiError(route, 404, (route.body as { code: string }).code)
  })

  it('answers 400 INVALID_JSON for a malformed body, and parses a body sent without a JSON Content-Type', async () => {
    expectApiError(await e2e.request('POST', `/flows/${FLOW}/runs`, '{"input": '), 400, 'INVALID_JSON')
    expectApiError(await schedule('{not json'), 400, 'INVALID_JSON')

    const calls = { start: { exit: 0 } }
    const bare = await e2e.request(
      'POST',
      `/flows/${FLOW}/runs`,
      new TextEncoder().encode(JSON.stringify({ input: { calls, tag: 'bare' } })),
      {},
    )
    expect(bare.status, JSON.stringify(bare.body)).toBe(201)
    expect((bare.body as RunView).input).toEqual({ calls, tag: 'bare' })

    // What `curl -d` sends without -H.
    const form = await e2e.request(
      'POST',
      `/flows/${FLOW}/runs`,
      JSON.stringify({ input: { calls, tag: 'form' } }),
      {
        'Content-Type': 'application/x-www-form-urlencoded',
      },
    )
    expect(form.status, JSON.stringify(form.body)).toBe(201)
    expect((form.body as RunView).input).toEqual({ calls, tag: 'form' })
  })

  it('answers 400 for bad step ids, unknown dependencies, cycles, missing scripts and reused ids', async () => {
    for (const id of ['has space', 'semi;colon', '../up', '', 'ü']) {
      expectApiError(await schedule(stage('bad-id', false, [probe(id)])), 400, 'INVALID_STEP_ID')
    }
    expectApiError(
      await schedule(stage('unknown-dep', false, [probe('u1', { dependsOn: ['nowhere'] })])),
      400,
      'UNKNOWN_DEPENDENCY',
    )
    expectApiError(
      await schedule(
        stage('cycle', false, [probe('c1', { dependsOn: ['c2'] }), probe('c2', { dependsOn: ['c1'] })]),
      ),
      400,
      'DEPENDENCY_CYCLE',
    )
    expectApiError(
      await schedule(stage('self', false, [probe('self1', { dependsOn: ['self1'] })])),
      400,
      'DEPENDENCY_CYCLE',
    )
    expectApiError(
      await schedule(stage('no-script', false, [{ id: 'n1', name: 'no_such_step' }])),
      400,
      'STEP_NOT_FOUND',
    )
    expectApiError(
      await schedule(stage('dup-in-body', false, [probe('d1'), probe('d1')])),
      400,
      'DUPLICATE_STEP_ID',
    )
    expectApiError(await schedule(stage('reuse', false, [probe('k')])), 400, 'DUPLICATE_STEP_ID')
    expectApiError(
      await e2e.request('POST', `/runs/${live}/steps/no-such-step/fields`, { fields: { a: 1 } }),
      400,
      'STEP_NOT_FOUND',
    )
    // None of the rejected stages left anything behind.
    expect((await e2e.getSteps(live)).map((s) => s.id).sort()).toEqual(['h', 'k'])
    expect((await e2e.getRun(live)).stages.map((s) => s.name)).toEqual(['held'])
  })

  it('answers 400 VALIDATION_FAILED with a list of problems for bodies and queries that do not fit', async () => {
    const invalid = [
      { steps: [probe('v1')], final: true },
      { stage: 'v', steps: [probe('v1')] },
      { stage: 'v', final: 'yes', steps: [probe('v1')] },
      { stage: 'v', final: true, steps: [] },
      { stage: 'v', final: true, steps: [{ id: 'v1' }] },
      { stage: 'v', final: true, steps: [probe('v1', { maxRetries: -1 })] },
      { stage: 'v', final: true, steps: [probe('v1', { maxRetries: 1.5 })] },
      { stage: 'v', final: true, steps: [probe('v1', { timeoutSeconds: 0 })] },
      { stage: 'v', final: true, steps: [{ ...probe('v1'), env: { SHARD: 1 } }] },
      { stage: 'v', final: true, steps: [{ ...probe('v1'), dependsOn: 'a' }] },
      [],
      'null',
    ]
    for (const body of invalid) {
      const res = await schedule(body)
      expectApiError(res, 400, 'VALIDATION_FAILED')
      expect(Array.isArray((res.body as { details: unknown }).details), JSON.stringify(res.body)).toBe(true)
    }
    expectApiError(await e2e.request('POST', '/runs', {}), 400, 'VALIDATION_FAILED')
    expectApiError(await e2e.request('POST', `/runs/${live}/steps/h/fields`, {}), 400, 'VALIDATION_FAILED')
    expectApiError(
      await e2e.request('POST', `/runs/${live}/steps/h/fields`, { fields: [1] }),
      400,
      'VALIDATION_FAILED',
    )
    expectApiError(
      await e2e.request('POST', `/runs/${live}/logs`, { level: 'loud', message: 'x' }),
      400,
      'VALIDATION_FAILED',
    )
    expectApiError(await e2e.request('POST', `/runs/${live}/logs`, { message: '' }), 400, 'VALIDATION_FAILED')
    expectApiError(await e2e.request('GET', '/runs?status=bogus'), 400, 'VALIDATION_FAILED')
    expectApiError(await e2e.request('GET', '/runs?limit=-1'), 400, 'VALIDATION_FAILED')
    expectApiError(await e2e.request('GET', '/runs?limit=abc'), 400, 'VALIDATION_FAILED')
    expectApiError(await e2e.request('GET', `/runs/${live}/logs?limit=0`), 400, 'VALIDATION_FAILED')
  })

  it('answers 400 to retrying a completed run and 409 to retrying a running one', async () => {
    expectApiError(await e2e.request('POST', `/runs/${live}/retry`), 409, 'RUN_STILL_RUNNING')
    const done = await e2e.trigger({ start: { post: [stage('only', true, [probe('x')])] } })
    expect((await e2e.waitForRun(done, ['completed', 'failed'])).status).toBe('completed')
    expectApiError(await e2e.request('POST', `/runs/${done}/retry`), 400, 'RUN_COMPLETED')
    expectApiError(
      await e2e.request('POST', `/runs/${done}/steps`, stage('late', true, [probe('y')])),
      409,
      'RUN_NOT_ACTIVE',
    )
  })

  it('answers 413 to a body over the limit', async () => {
    const huge = JSON.stringify({ input: { blob: 'x'.repeat(2 * 1024 * 1024) } })
    expectApiError(await e2e.request('POST', `/flows/${FLOW}/runs`, huge), 413, 'PAYLOAD_TOO_LARGE')
  })
})
