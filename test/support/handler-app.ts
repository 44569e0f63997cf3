// The API as the handler tests see it: createApp over a real SQLite store in a temp file (or a fresh
// store on a given test database) and a temp FLOWS_ROOT, called through app.request() (no port).
// Also small helpers to send JSON and to check the error shape.

import path from 'node:path'
import type { Hono } from 'hono'
import { expect } from 'vitest'
import { flowCatalog } from '../../catalog/flow-catalog.js'
import { openStore } from '../../db/open-store.js'
import type { RetryPolicy } from '../../db/rules/decide-attempt.js'
import type { Store } from '../../db/store.js'
import { createApp } from '../../handlers/app.js'
import type { AppEnv, Clock } from '../../handlers/app-env.js'
import type { TestDatabase } from './dialects.js'
import { createTempDir, removeDir, writeFlow } from './temp-flows.js'

export interface ApiResponse {
  status: number
  headers: Headers
  /** Parsed JSON, or the raw text when the body is not JSON. */
  body: unknown
}

export interface SendOptions {
  /** Sent as is; by default a JSON body gets `Content-Type: application/json`. */
  headers?: Record<string, string>
}

export interface HandlerApp {
  app: Hono<AppEnv>
  store: Store
  flowsRoot: string
  /** MAXQ_SQLITE_PATH or MAXQ_DATABASE_URL of the app's database, for a second connection. */
  databaseEnv: Record<string, string>
  /** How many times a handler called wake(). */
  wakes(): number
  /** Lines written to the app's logger. */
  logged: string[]
  /** `body` is JSON-encoded unless it is a string or bytes, which are sent verbatim. */
  send(method: string, urlPath: string, body?: unknown, options?: SendOptions): Promise<ApiResponse>
  close(): Promise<void>
}

export interface HandlerAppOptions {
  maxBodyBytes?: number
  maxFieldsBytes?: number
  /** MAXQ_API_TOKEN for the app; unset leaves the API open. */
  apiToken?: string
  /** MAXQ_METRICS_PUBLIC: GET /metrics open without the API token. */
  metricsPublic?: boolean
  /** Lets a test replace store methods (e.g. make one throw); gets the real store. */
  wrapStore?: (store: Store) => Store
  wake?: () => void
  /** Lines of the app's request log (LOG_LEVEL=debug). */
  requestLog?: (line: string) => void
  /** The database to run on; by default SQLite in the app's temp dir. */
  database?: TestDatabase
  /** The app's clock; by default the wall clock. */
  clock?: Clock
  /** MAXQ_RETRY_DELAY_SECONDS / MAXQ_RETRY_BACKOFF; by default the app's own default. */
  retryDefaults?: RetryPolicy
}

/** Flows every handler test can use: `hello` (greet, farewell) and `other` (work). */
export const HELLO_FLOW = { name: 'hello', steps: ['farewell', 'greet'] }

export async function createHandlerApp(options: HandlerAppOptions = {}): Promise<HandlerApp> {
  const dir = await createTempDir('maxq-handlers-')
  const flowsRoot = path.join(dir, 'flows')
  await writeFlow(flowsRoot, 'hello', { flow: 'exit 0', steps: { greet: 'echo hi', farewell: 'echo bye' } })
  await writeFlow(flowsRoot, 'other', { flow: 'exit 0', steps: { work: 'exit 0' } })
  const opened = options.database ? await options.database.open() : undefined
  const sqlitePath = path.join(dir, 'maxq.db')
  const store = opened?.store ?? (await openStore({ sqlitePath }))
  let wakeCount = 0
  const logged: string[] = []
  const app = createApp({
    store: options.wrapStore ? options.wrapStore(store) : store,
    catalog: flowCatalog(flowsRoot),
    maxBodyBytes: options.maxBodyBytes,
    maxFieldsBytes: options.maxFieldsBytes,
    ...(options.retryDefaults ? { retryDefaults: options.retryDefaults } : {}),
    apiToken: options.apiToken,
    metricsPublic: options.metricsPublic ?? false,
    ...(options.requestLog ? { requestLog: options.requestLog } : {}),
    clock: options.clock,
    logger: (line) => logged.push(line),
    wake: () => {
      wakeCount++
      options.wake?.()
    },
  })

  const send = async (method: string, urlPath: string, body?: unknown, sendOptions: SendOptions = {}) => {
    const init: RequestInit = { method, headers: sendOptions.headers }
    if (body !== undefined) {
      // Bytes go out with no Content-Type at all (a string gets text/plain).
      init.body = encodeBody(body)
      if (typeof body !== 'string' && !(body instanceof Uint8Array) && !sendOptions.headers)
        init.headers = { 'Content-Type': 'application/json' }
    }
    const res = await app.request(urlPath, init)
    return readAnswer(res)
  }

  return {
    app,
    store,
    flowsRoot,
    databaseEnv: opened?.databaseEnv ?? { MAXQ_SQLITE_PATH: sqlitePath },
    wakes: () => wakeCount,
    logged,
    send,
    close: async () => {
      await (opened ? opened.dispose() : store.close())
      await removeDir(dir)
    },
  }
}

/** A test's body as sent: a string verbatim, bytes as bytes, anything else as JSON. */
export function encodeBody(body: unknown): string | Uint8Array<ArrayBuffer> {
  if (typeof body === 'string') return body
  return body instanceof Uint8Array ? new Uint8Array(body) : JSON.stringify(body)
}

/** An answer with its body parsed as JSON, or kept as text so that a failing assertion shows it. */
export async function readAnswer(res: Response): Promise<ApiResponse> {
  const text = await res.text()
  let parsed: unknown = text
  try {
    parsed = JSON.parse(text)
  } catch {
    // not JSON
  }
  return { status: res.status, headers: res.headers, body: parsed }
}

/** Asserts the one error shape: exactly `{error, code, details}`, with the given status and code. */
export function expectApiError(res: ApiResponse, status: number, code: string): Record<string, unknown> {
  expect({ status: res.status, body: res.body }).toMatchObject({ status, body: { code } })
  const body = res.body as Record<string, unknown>
  expect(Object.keys(body).sort()).toEqual(['code', 'details', 'error'])
  expect(typeof body.error).toBe('string')
  expect(String(body.error)).not.toMatch(/\n\s+at /)
  return body
}
