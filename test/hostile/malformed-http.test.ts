// Requests Node's HTTP parser refuses before the app sees them still get the one error shape
// `{error, code, details}`, from a real `maxq serve`, and the server keeps answering.

import net from 'node:net'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sqliteDatabase } from '../support/dialects.js'
import { startServer, type RunningServer } from '../support/start-server.js'
import { createTempDir, removeDir, writeFlow } from '../support/temp-flows.js'

/** Writes `request` on a fresh connection and answers everything the server sent until it closed. */
function rawRequest(server: RunningServer, request: string | Buffer): Promise<string> {
  const { hostname, port } = new URL(server.baseUrl)
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) }, () => socket.write(request))
    let answer = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => (answer += chunk))
    socket.on('error', reject)
    socket.on('close', () => resolve(answer))
  })
}

function parse(answer: string): { status: number; headers: string; body: unknown } {
  const split = answer.indexOf('\r\n\r\n')
  return {
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]),
    headers: answer.slice(0, split),
    body: JSON.parse(answer.slice(split + 4)) as unknown,
  }
}

describe('requests that are not valid HTTP, sent to a real server', () => {
  let server: RunningServer
  let dir: string
  let opened: Awaited<ReturnType<typeof sqliteDatabase.open>>

  beforeAll(async () => {
    dir = await createTempDir('maxq-malformed-')
    await writeFlow(path.join(dir, 'flows'), 'hello', { flow: 'exit 0', steps: { greet: 'echo hi' } })
    opened = await sqliteDatabase.open()
    server = await startServer({
      flowsRoot: path.join(dir, 'flows'),
      databaseEnv: opened.databaseEnv,
      args: ['bin/maxq.js', 'serve'],
    })
  })

  afterAll(async () => {
    await server?.stop()
    await opened?.dispose()
    await removeDir(dir)
  })

  const line = (requestLine: string, headers = ''): string =>
    `${requestLine}\r\nHost: localhost\r\n${headers}Connection: close\r\n\r\n`

  it.each([
    ['a raw NUL in the path', line('GET /api/v1/runs/a\0b HTTP/1.1'), 400, 'MALFORMED_REQUEST'],
    ['a raw space in the path', line('GET /api/v1/runs/a b HTTP/1.1'), 400, 'MALFORMED_REQUEST'],
    [
      'a raw newline in the path',
      'GET /api/v1/runs/a\nb HTTP/1.1\r\nHost: x\r\n\r\n',
      400,
      'MALFORMED_REQUEST',
    ],
    ['an unknown HTTP version', line('GET /api/v1/runs HTTP/9.9'), 400, 'MALFORMED_REQUEST'],
    [
      'a control character in a header',
      line('GET /api/v1/runs HTTP/1.1', 'X-Evil: a\x01b\r\n'),
      400,
      'MALFORMED_REQUEST',
    ],
    ['a header without a colon', line('GET /api/v1/runs HTTP/1.1', 'NoColon\r\n'), 400, 'MALFORMED_REQUEST'],
    [
      'Content-Length beside Transfer-Encoding (request smuggling)',
      line('POST /api/v1/runs HTTP/1.1', 'Content-Length: 2\r\nTransfer-Encoding: chunked\r\n') + '0\r\n\r\n',
      400,
      'MALFORMED_REQUEST',
    ],
    [
      'two different Content-Lengths',
      line('POST /api/v1/runs HTTP/1.1', 'Content-Length: 2\r\nContent-Length: 3\r\n') + '{}',
      400,
      'MALFORMED_REQUEST',
    ],
    [
      'a negative Content-Length',
      line('POST /api/v1/runs HTTP/1.1', 'Content-Length: -1\r\n'),
      400,
      'MALFORMED_REQUEST',
    ],
    [
      '20 KB of headers',
      line('GET /api/v1/runs HTTP/1.1', `X-Big: ${'x'.repeat(20 * 1024)}\r\n`),
      431,
      'HEADERS_TOO_LARGE',
    ],
  ])('answers %s with %i %s', async (_label, request, status, code) => {
    const answer = parse(await rawRequest(server, request))
    expect(answer.status, answer.headers).toBe(status)
    expect(answer.headers).toMatch(/\r\ncontent-type: application\/json\r\n/i)
    expect(answer.body).toMatchObject({ code })
    expect(Object.keys(answer.body as object).sort()).toEqual(['code', 'details', 'error'])
    expect((await fetch(`${server.baseUrl}/health`)).status).toBe(200)
  })

  it('answers a broken chunked body with 400, and nothing is stored', async () => {
    const request =
      line(
        'POST /api/v1/flows/hello/runs HTTP/1.1',
        'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n',
      ) + 'zz\r\n{}\r\n0\r\n\r\n'
    const answer = parse(await rawRequest(server, request))
    expect(answer.status).toBe(400)
    expect(answer.body).toMatchObject({ code: 'MALFORMED_REQUEST' })
    const runs = (await (await fetch(`${server.apiBase}/runs`)).json()) as { runs: unknown[] }
    expect(runs.runs).toEqual([])
  })
})
