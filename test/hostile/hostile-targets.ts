// What the hostile suite sends its requests to: the app through app.request() (no port), or a real
// `maxq serve` process on a real port (the HTTP adapter, its URL handling and body reading
// included). Both run over a database of test/support/dialects.ts and the flows `hello` (greet,
// farewell) and `other` (work); `maxq serve` runs no scheduler, so only requests change the rows.

import path from 'node:path'
import type { TestDatabase } from '../support/dialects.js'
import { createHandlerApp, encodeBody, readAnswer, type ApiResponse } from '../support/handler-app.js'
import { startServer } from '../support/start-server.js'
import { createTempDir, removeDir, writeFlow } from '../support/temp-flows.js'

export interface HostileTarget {
  /** `body`: an object is sent as JSON, a string or bytes verbatim (bytes with no Content-Type). */
  send(
    method: string,
    urlPath: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ApiResponse>
  databaseEnv: Record<string, string>
  /** Lines about unexpected errors (what a 500 logs); none is expected. */
  unexpectedErrors(): string[]
  close(): Promise<void>
}

export type TargetKind = 'app' | 'server'

export async function openTarget(kind: TargetKind, database: TestDatabase): Promise<HostileTarget> {
  return kind === 'app' ? appTarget(database) : serverTarget(database)
}

async function appTarget(database: TestDatabase): Promise<HostileTarget> {
  const api = await createHandlerApp({ database })
  return {
    send: (method, urlPath, body, headers) =>
      api.send(method, urlPath, body, headers === undefined ? {} : { headers }),
    databaseEnv: api.databaseEnv,
    unexpectedErrors: () => api.logged,
    close: () => api.close(),
  }
}

async function serverTarget(database: TestDatabase): Promise<HostileTarget> {
  const dir = await createTempDir('maxq-hostile-')
  const flowsRoot = path.join(dir, 'flows')
  await writeFlow(flowsRoot, 'hello', { flow: 'exit 0', steps: { greet: 'echo hi', farewell: 'echo bye' } })
  await writeFlow(flowsRoot, 'other', { flow: 'exit 0', steps: { work: 'exit 0' } })
  // The server opens the database itself; the store opened here only holds it until dispose().
  const opened = await database.open()
  const server = await startServer({
    flowsRoot,
    databaseEnv: opened.databaseEnv,
    args: ['bin/maxq.js', 'serve'],
  }).catch(async (error: unknown) => {
    await opened.dispose()
    throw error
  })
  const send = async (
    method: string,
    urlPath: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ApiResponse> => {
    const init: RequestInit = { method, headers: headers ?? {} }
    if (body !== undefined) {
      init.body = encodeBody(body)
      if (headers === undefined && typeof body === 'object' && !(body instanceof Uint8Array)) {
        init.headers = { 'Content-Type': 'application/json' }
      }
    }
    const res = await fetch(`${server.baseUrl}${urlPath}`, init)
    return readAnswer(res)
  }
  return {
    send,
    databaseEnv: opened.databaseEnv,
    unexpectedErrors: () =>
      server
        .logs()
        .split('\n')
        .filter((line) => / failed: |INTERNAL_ERROR/.test(line)),
    async close() {
      await server.stop()
      await opened.dispose()
      await removeDir(dir)
    },
  }
}
