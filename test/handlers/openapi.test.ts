// The OpenAPI document (handlers/openapi/): a valid OpenAPI 3.1 document, served without a token,
// that lists exactly the routes the app registers, made from the validators' own schemas. Real
// answers are checked against it in test/e2e/openapi-answers.test.ts.

import { Validator } from '@seriousme/openapi-schema-validator'
import { afterEach, describe, expect, it } from 'vitest'
import { ScheduleStageBody } from '../../handlers/steps/stage-definition.js'
import { buildDocument } from '../../handlers/openapi/build-document.js'
import { ROUTES } from '../../handlers/openapi/routes.js'
import { createHandlerApp, expectApiError, type HandlerApp } from '../support/handler-app.js'

const API_TOKEN = 'test-api-token-0123456789abcdef'

interface Document {
  openapi: string
  paths: Record<string, Record<string, { security: unknown[]; responses: Record<string, unknown> }>>
  components: { schemas: Record<string, unknown> }
}

let api: HandlerApp
afterEach(async () => {
  await api?.close()
})

/** `get /api/v1/runs/:runId` for each route the app serves, but the dashboard's (/ui, not the API). */
function registered(app: HandlerApp['app']): string[] {
  const served = app.routes
    .filter((route) => route.method !== 'ALL')
    .filter((route) => route.path.startsWith('/api/') || ['/health', '/metrics'].includes(route.path))
    .map((route) => `${route.method.toLowerCase()} ${route.path}`)
  return [...new Set(served)].sort()
}

function documented(doc: Document): string[] {
  return Object.entries(doc.paths)
    .flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method} ${path.replace(/\{([^}]+)\}/g, ':$1')}`),
    )
    .sort()
}

describe('GET /api/v1/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    api = await createHandlerApp()
    const res = await api.send('GET', '/api/v1/openapi.json')
    expect(res.status).toBe(200)
    const doc = res.body as Document
    expect(doc.openapi).toBe('3.1.0')
    const result = await new Validator().validate(doc as never)
    expect(result.errors ?? []).toEqual([])
    expect(result.valid).toBe(true)
  })

  it('lists every route the app registers and no other: a new route needs an entry in routes.ts', async () => {
    api = await createHandlerApp()
    const doc = (await api.send('GET', '/api/v1/openapi.json')).body as Document
    expect(documented(doc)).toEqual(registered(api.app))
    expect(ROUTES.length).toBe(documented(doc).length)
    const operationIds = Object.values(doc.paths).flatMap((operations) =>
      Object.values(operations).map((operation) => (operation as { operationId?: string }).operationId),
    )
    expect(new Set(operationIds).size).toBe(ROUTES.length)
  })

  it('is open where MAXQ_API_TOKEN is set, while the rest of the API is not', async () => {
    api = await createHandlerApp({ apiToken: API_TOKEN })
    expect((await api.send('GET', '/api/v1/openapi.json')).status).toBe(200)
    expectApiError(await api.send('GET', '/api/v1/runs'), 401, 'UNAUTHORIZED')
  })

  it("converts the validators' schemas: the stage body is the one POST /runs/{run}/steps checks", () => {
    const doc = buildDocument() as Document & {
      paths: Record<string, Record<string, { requestBody: { content: Record<string, { schema: unknown }> } }>>
    }
    const schema = doc.paths['/api/v1/runs/{runId}/steps']!.post!.requestBody.content['application/json']!
      .schema as { required: string[]; additionalProperties: boolean; properties: Record<string, unknown> }
    expect(schema.required).toEqual(Object.keys(ScheduleStageBody.entries))
    expect(schema.additionalProperties).toBe(false)
    expect(schema.properties.steps).toMatchObject({ type: 'array', minItems: 1, maxItems: 10_000 })
  })

  it('gives each operation its errors as {error, code, details} and says who may call', () => {
    const doc = buildDocument() as Document
    const getRun = doc.paths['/api/v1/runs/{runId}']!.get!
    expect(Object.keys(getRun.responses).sort()).toEqual(['200', '400', '401', '403', '404', '500'])
    expect(getRun.responses['404']).toMatchObject({
      content: {
        'application/json': {
          schema: {
            allOf: [
              { $ref: '#/components/schemas/Error' },
              { properties: { code: { enum: ['RUN_NOT_FOUND'] } } },
            ],
          },
        },
      },
    })
    expect(getRun.security).toEqual([{ apiToken: [] }, { runToken: [] }])
    expect(doc.paths['/health']!.get!.security).toEqual([{}, { apiToken: [] }])
    expect(doc.components.schemas.Error).toMatchObject({ required: ['error', 'code', 'details'] })
  })
})
