// Makes the OpenAPI 3.1 document from routes.ts: every schema goes through @valibot/to-json-schema
// (JSON Schema 2020-12, OpenAPI 3.1's own dialect), so the document says what the validators check.
// Input schemas are converted as their input type: a query's `limit` is the string `^\d+$` the URL
// carries, not the number the handler gets. What JSON Schema cannot say (a step env name bash would
// refuse, "exactly one of finishedBefore and olderThanMs") is left out; the 400 answers say it.

import {
  toJsonSchema,
  toJsonSchemaDefs,
  type ConversionConfig,
  type JsonSchema,
} from '@valibot/to-json-schema'
import type * as v from 'valibot'
import {
  AttemptAnswer,
  ErrorAnswer,
  FlowAnswer,
  FlowCallAnswer,
  LogEntryAnswer,
  RunAnswer,
  RunWithStagesAnswer,
  StageAnswer,
  StepAnswer,
  WaitingForAnswer,
} from '../answer-schemas.js'
import { JsonObject, JsonValue } from '../shared-schemas.js'
import type { ApiErrorCode } from '../errors.js'
import { ROUTES, type RouteDoc } from './routes.js'

/** Named schemas: components.schemas, referenced wherever a route uses them. */
const COMPONENTS = {
  Error: ErrorAnswer,
  Run: RunAnswer,
  RunWithStages: RunWithStagesAnswer,
  Stage: StageAnswer,
  Step: StepAnswer,
  Attempt: AttemptAnswer,
  WaitingFor: WaitingForAnswer,
  FlowCall: FlowCallAnswer,
  LogEntry: LogEntryAnswer,
  Flow: FlowAnswer,
}

const CONVERSION: ConversionConfig = {
  target: 'draft-2020-12',
  typeMode: 'input',
  // Checks that are code, not shape: the validator still runs them; a 400 says what they refused.
  ignoreActions: ['check', 'raw_check', 'excludes'],
  overrideRef: ({ referenceId }) => `#/components/schemas/${referenceId}`,
  overrideSchema: ({ valibotSchema }) => {
    if (valibotSchema === JsonValue) return { description: 'any JSON value' }
    if (valibotSchema === JsonObject) return { type: 'object' }
    return undefined
  },
}

type Schema = v.GenericSchema

function convert(schema: Schema): JsonSchema {
  const {
    $schema: _dialect,
    $defs: _defs,
    ...rest
  } = toJsonSchema(schema, {
    ...CONVERSION,
    definitions: COMPONENTS,
  })
  return rest
}

/** Errors every route can answer, beside its own (routes.ts). */
function errorCodes(route: RouteDoc): Map<number, ApiErrorCode[]> {
  const codes = new Map<number, ApiErrorCode[]>()
  const add = (status: number, more: readonly ApiErrorCode[]): void => {
    codes.set(status, [...new Set([...(codes.get(status) ?? []), ...more])])
  }
  // handlers/check-url.ts refuses a URL that is not text on every route.
  add(400, ['VALIDATION_FAILED'])
  if (route.body) {
    add(400, ['INVALID_JSON'])
    add(413, ['PAYLOAD_TOO_LARGE'])
    add(415, ['UNSUPPORTED_MEDIA_TYPE'])
  }
  if (route.access !== 'open') {
    add(401, ['UNAUTHORIZED'])
    add(403, ['FORBIDDEN'])
  }
  for (const [status, more] of Object.entries(route.errors ?? {})) add(Number(status), more)
  add(500, ['INTERNAL_ERROR'])
  return codes
}

const REASONS: Record<number, string> = {
  400: 'Bad input; nothing was changed',
  401: 'MAXQ_API_TOKEN is set and no valid token was given (or the run token’s run has ended)',
  403: "A run token used outside its own run's endpoints, or for what only the operator may do",
  404: 'Not found',
  409: 'The run or step is not in a state that allows this',
  413: 'The body is larger than the limit',
  415: 'The body is not JSON',
  500: 'Unexpected failure (logged; never a stack trace)',
  503: 'The database is not reachable',
}

function errorResponse(route: RouteDoc, status: number, codes: ApiErrorCode[]): object {
  const special = route.errorAnswers?.[status as 503]
  const schema = special
    ? convert(special)
    : {
        allOf: [
          { $ref: '#/components/schemas/Error' },
          { type: 'object', properties: { code: { enum: codes } } },
        ],
      }
  return {
    description: `${REASONS[status] ?? 'Error'}: ${codes.join(', ')}`,
    content: { 'application/json': { schema } },
  }
}

function parameters(route: RouteDoc): object[] {
  const list: object[] = []
  for (const [name, entry] of Object.entries(route.params?.entries ?? {})) {
    list.push({ name, in: 'path', required: true, schema: convert(entry) })
  }
  const query = route.query as (Schema & { entries?: Record<string, Schema> }) | undefined
  for (const [name, entry] of Object.entries(query?.entries ?? {})) {
    const required = !['optional', 'nullish', 'exact_optional'].includes(entry.type)
    list.push({ name, in: 'query', required, schema: convert(entry) })
  }
  return list
}

const SECURITY: Record<RouteDoc['access'], object[]> = {
  // An open route still reads a valid API token (GET /health then shows the workers' hosts).
  open: [{}, { apiToken: [] }],
  operator: [{ apiToken: [] }],
  run: [{ apiToken: [] }, { runToken: [] }],
}

function operation(route: RouteDoc): object {
  const answer = route.answer
  const responses: Record<string, object> = {
    [answer.status]: {
      description: answer.description,
      content:
        'json' in answer
          ? { 'application/json': { schema: convert(answer.json) } }
          : { [answer.text]: { schema: { type: 'string' } } },
    },
  }
  for (const [status, codes] of errorCodes(route)) responses[status] = errorResponse(route, status, codes)
  return {
    operationId: `${route.method}${openApiPath(route.path).replace(/[^a-zA-Z0-9]+(.)?/g, (_, c?: string) => (c ?? '').toUpperCase())}`,
    summary: route.summary,
    tags: [route.tag],
    security: SECURITY[route.access],
    ...(route.params || route.query ? { parameters: parameters(route) } : {}),
    ...(route.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: convert(route.body) } } } }
      : {}),
    responses,
  }
}

/** `/runs/:runId` → `/runs/{runId}`. */
export function openApiPath(honoPath: string): string {
  return honoPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}')
}

export function buildDocument(routes: readonly RouteDoc[] = ROUTES): object {
  const paths: Record<string, Record<string, object>> = {}
  for (const route of routes) {
    const path = openApiPath(route.path)
    paths[path] = { ...paths[path], [route.method]: operation(route) }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'MaxQ',
      version: '1',
      description:
        'A DAG workflow orchestrator for shell scripts. Timestamps are epoch milliseconds; every error is ' +
        '`{error, code, details}`. Without MAXQ_API_TOKEN the API is open to anyone who can reach it ' +
        'and the security requirements below do not apply.',
    },
    servers: [{ url: '/' }],
    security: [{ apiToken: [] }],
    tags: [...new Set(routes.map((route) => route.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: toJsonSchemaDefs(COMPONENTS, CONVERSION),
      securitySchemes: {
        apiToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'MAXQ_API_TOKEN: the operator, the CLI and supervisors; may call every route',
        },
        runToken: {
          type: 'http',
          scheme: 'bearer',
          description:
            "A run's MAXQ_TOKEN, given to its flow and step scripts: only that run's endpoints, while it is open",
        },
      },
    },
  }
}

let built: object | null = null

/** The document is the same for the life of the process: made on the first request. */
export function openApiDocument(): object {
  built ??= buildDocument()
  return built
}
