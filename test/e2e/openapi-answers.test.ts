// Real answers against the OpenAPI document: a real server runs a real bash flow (one stage that
// completes with fields and a log, one that fails), and every GET route's JSON answer, the flow's
// own POST answers and a set of error answers are validated with ajv (JSON Schema 2020-12, OpenAPI
// 3.1's dialect) against the schema the document gives for that route and status.

import { Ajv2020 } from 'ajv/dist/2020.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openApiPath } from '../../handlers/openapi/build-document.js'
import { testDatabases } from '../support/dialects.js'
import { FLOW, probe, stage, startE2eServer, type E2eServer } from './e2e-server.js'

const API_TOKEN = 'openapi-answers-token-0123456789'

type Method = 'get' | 'post' | 'patch' | 'delete'

/** JSON pointer escaping of one segment (RFC 6901). */
const pointer = (segment: string): string => segment.replaceAll('~', '~0').replaceAll('/', '~1')

/** Checks a body against the document's schema for `method path` answering `status`. */
function answerChecker(
  doc: object,
): (method: Method, honoPath: string, status: number, body: unknown) => void {
  // The document is not itself a schema; ajv reads the parts it is asked for (strict off for the rest).
  const ajv = new Ajv2020({ strict: false, allErrors: true })
  ajv.addSchema(doc, 'openapi.json')
  return (method, honoPath, status, body) => {
    const at = `paths/${pointer(openApiPath(honoPath))}/${method}/responses/${status}/content/${pointer('application/json')}/schema`
    const validate = ajv.getSchema(`openapi.json#/${at}`)
    expect(validate, `the document has no JSON ${status} answer for ${method} ${honoPath}`).toBeDefined()
    const valid = validate!(body)
    expect({
      route: `${method} ${honoPath} ${status}`,
      errors: valid ? [] : validate!.errors,
      body,
    }).toMatchObject({
      errors: [],
    })
  }
}

describe.each(testDatabases)('OpenAPI document against real answers ($name)', (database) => {
  let e2e: E2eServer
  let check: ReturnType<typeof answerChecker>

  beforeAll(async () => {
    e2e = await startE2eServer(database, { env: { MAXQ_API_TOKEN: API_TOKEN } })
    const doc = await e2e.expectJson<object>('GET', '/openapi.json', 200)
    check = answerChecker(doc)
  })

  afterAll(async () => {
    await e2e?.close()
  })

  /** GETs (or sends) and validates the answer; answers the body. */
  async function answer(
    method: Method,
    honoPath: string,
    url: string,
    status: number,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<unknown> {
    const res = await e2e.request(method.toUpperCase(), url, body, headers)
    expect({ url, status: res.status, body: res.body }).toMatchObject({ status })
    check(method, honoPath, status, res.body)
    return res.body
  }

  it("validates every GET route's answer, the flow's own posts, and the writes' answers", async () => {
    const runId = e2e.trigger({
      start: {
        post: [
          stage('work', false, [
            probe('fielded', { env: { FIELDS: '{"n":1,"nested":{"ok":true}}', LOG: 'from a step' } }),
            probe('held', { env: { HOLD: '1' } }),
            probe('after', { dependsOn: ['held'] }),
          ]),
        ],
      },
      'completed:work': { post: [stage('last', true, [probe('broken', { env: { EXIT: '3' } })])] },
    })
    const id = await runId
    await e2e.waitForStep(id, 'held', ['running'])
    await e2e.waitForOut(id, 'holding-held')
    // While a step runs and one waits for it: waitingFor is in the answers.
    await answer('get', '/api/v1/runs/:runId', `/runs/${id}`, 200)
    await answer('get', '/api/v1/runs/:runId/steps', `/runs/${id}/steps`, 200)
    await answer('get', '/api/v1/runs/:runId/steps/:stepId', `/runs/${id}/steps/after`, 200)
    await answer('get', '/api/v1/runs/:runId/steps/:stepId', `/runs/${id}/steps/held`, 200)
    e2e.writeOut(id, 'release-held', '')
    await e2e.waitForRun(id, ['failed'])

    const rootHealth = await fetch(`${e2e.server.baseUrl}/health`)
    check('get', '/health', 200, await rootHealth.json())
    await answer('get', '/api/v1/health', '/health', 200)
    await answer('get', '/api/v1/openapi.json', '/openapi.json', 200)
    await answer('get', '/api/v1/flows', '/flows', 200)
    await answer('get', '/api/v1/flows/:flowName', `/flows/${FLOW}`, 200)
    await answer('get', '/api/v1/runs', '/runs?limit=5', 200)
    await answer('get', '/api/v1/runs/:runId', `/runs/${id}`, 200)
    const steps = (await answer(
      'get',
      '/api/v1/runs/:runId/steps',
      `/runs/${id}/steps?sortOrder=desc`,
      200,
    )) as {
      steps: Array<{ id: string }>
    }
    expect(steps.steps.map((step) => step.id).sort()).toEqual(['after', 'broken', 'fielded', 'held'])
    for (const step of steps.steps) {
      await answer('get', '/api/v1/runs/:runId/steps/:stepId', `/runs/${id}/steps/${step.id}`, 200)
    }
    const broken = (await answer(
      'get',
      '/api/v1/runs/:runId/steps/:stepId',
      `/runs/${id}/steps/broken`,
      200,
    )) as {
      attempts?: unknown[]
    }
    expect(broken.attempts).toHaveLength(1)
    await answer('get', '/api/v1/runs/:runId/flow-calls', `/runs/${id}/flow-calls`, 200)
    const fields = (await answer(
      'get',
      '/api/v1/runs/:runId/fields',
      `/runs/${id}/fields?stepId=fielded`,
      200,
    )) as {
      fields: Array<{ fields: unknown }>
    }
    expect(fields.fields[0]?.fields).toEqual({ n: 1, nested: { ok: true } })
    const logs = (await answer('get', '/api/v1/runs/:runId/logs', `/runs/${id}/logs`, 200)) as {
      logs: Array<{ message: string }>
    }
    expect(logs.logs.map((log) => log.message)).toContain('from a step')

    // What the flow's curl got back when it scheduled its stages.
    const posts = (e2e.readOut(id, 'flow-posts.jsonl') ?? '').split('\n').filter((line) => line.trim() !== '')
    expect(posts).toHaveLength(2)
    for (const post of posts) check('post', '/api/v1/runs/:runId/steps', 201, JSON.parse(post))

    await answer('post', '/api/v1/runs/:runId/logs', `/runs/${id}/logs`, 201, {
      message: 'by hand',
      level: 'warn',
    })
    await answer('patch', '/api/v1/runs/:runId', `/runs/${id}`, 200, { name: 'checked', output: [1, 'two'] })
    await answer('post', '/api/v1/runs/:runId/steps/:stepId/retry', `/runs/${id}/steps/broken/retry`, 200)
    await answer('post', '/api/v1/runs/:runId/abort', `/runs/${id}/abort`, 200)
    await e2e.waitForRun(id, ['failed'])
    await answer('post', '/api/v1/runs/prune', '/runs/prune', 200, { olderThanMs: 0, dryRun: true })
    const other = (await answer('post', '/api/v1/runs', '/runs', 201, {
      flowName: FLOW,
      input: { calls: {} },
    })) as {
      id: string
    }
    await e2e.waitForRun(other.id, ['completed'])
    await answer('post', '/api/v1/runs/:runId/pause', `/runs/${other.id}/pause`, 409)
    await answer('delete', '/api/v1/runs/:runId', `/runs/${other.id}`, 200)
  })

  it('refuses an answer that is not what the document says (the check itself is checked)', () => {
    expect(() => check('get', '/api/v1/runs/:runId', 200, { id: 1, stages: 'none' })).toThrow()
    expect(() =>
      check('get', '/api/v1/runs/:runId', 404, { error: 'x', code: 'FLOW_NOT_FOUND', details: null }),
    ).toThrow()
  })

  it('validates error answers: 400, 401, 403, 404, 409 and 415', async () => {
    await answer('get', '/api/v1/runs/:runId', '/runs/no-such-run', 404)
    await answer('get', '/api/v1/runs/:runId/steps/:stepId', '/runs/no-such-run/steps/x', 404)
    await answer('get', '/api/v1/runs', '/runs?limit=many', 400)
    await answer('get', '/api/v1/runs/:runId/logs', '/runs/x/logs?level=loud', 400)
    await answer('get', '/api/v1/flows/:flowName', '/flows/no-such-flow', 404)
    await answer('post', '/api/v1/flows/:flowName/runs', '/flows/no-such-flow/runs', 404, {})
    await answer('get', '/api/v1/runs', '/runs', 401, undefined, { authorization: '' })
    await answer('post', '/api/v1/runs', '/runs', 400, '{"flowName": ', {
      'Content-Type': 'application/json',
    })
    await answer('post', '/api/v1/runs', '/runs', 415, '<run/>', { 'Content-Type': 'application/xml' })
    await answer('post', '/api/v1/runs/prune', '/runs/prune', 400, { olderThanMs: 1, finishedBefore: 1 })

    const id = await e2e.trigger({
      start: { post: [stage('only', true, [probe('held', { env: { HOLD: '1' } })])] },
    })
    await e2e.waitForOut(id, 'holding-held')
    await answer('delete', '/api/v1/runs/:runId', `/runs/${id}`, 409)
    await answer('post', '/api/v1/runs/:runId/retry', `/runs/${id}/retry`, 409)
    await answer('post', '/api/v1/runs/:runId/steps/:stepId/retry', `/runs/${id}/steps/nope/retry`, 400)
    await answer('post', '/api/v1/runs/:runId/steps', `/runs/${id}/steps`, 400, {
      stage: 'bad',
      final: true,
      steps: [{ id: 'has space', name: 'probe' }],
    })
    // A run token is held to its own run.
    const auth = { authorization: `Bearer ${e2e.stepRecords(id, 'held')[0]?.env.MAXQ_TOKEN ?? ''}` }
    await answer('get', '/api/v1/runs', '/runs', 403, undefined, auth)
    await answer('delete', '/api/v1/runs/:runId', `/runs/${id}`, 403, undefined, auth)
    e2e.writeOut(id, 'release-held', '')
    await e2e.waitForRun(id, ['completed'])
    await answer('post', '/api/v1/runs/:runId/retry', `/runs/${id}/retry`, 400)
  })
})
