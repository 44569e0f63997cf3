// Body limits that answer: a real server on a real port, and a client still uploading a body over
// MAXQ_MAX_BODY_BYTES. It must read the 413 with its error body, whether the size was declared
// (Content-Length) or only found out while reading (chunked), and the connection must not be reset
// under it. Issue 14: the server used to destroy the request, and clients saw EPIPE/ECONNRESET.

import http from 'node:http'
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FLOW, startE2eServer, type E2eServer } from '../e2e/e2e-server.js'
import { sqliteDatabase } from '../support/dialects.js'

const MAX_BODY_BYTES = 64 * 1024
const MAX_FIELDS_BYTES = 256 * 1024
const UPLOAD_BYTES = 8 * 1024 * 1024

interface Upload {
  status: number | null
  body: unknown
  /** Emitted by the client: 'continue' (100), 'response', 'error <code>', 'finish' (all sent). */
  events: string[]
}

/**
 * POSTs UPLOAD_BYTES of a JSON string in 64 KiB writes, honouring back-pressure, and keeps writing
 * after the answer has arrived (as a client that reads only once it has sent everything would).
 */
function upload(
  url: string,
  options: { chunked: boolean; expectContinue?: boolean; connectionClose?: boolean },
): Promise<Upload> {
  return new Promise((resolve) => {
    const head = Buffer.from('{"input":"')
    const tail = Buffer.from('"}')
    const filler = Buffer.alloc(64 * 1024, 'x')
    const total = head.length + UPLOAD_BYTES + tail.length
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (!options.chunked) headers['content-length'] = String(total)
    if (options.expectContinue) headers.expect = '100-continue'
    const result: Upload = { status: null, body: null, events: [] }
    // A keep-alive agent, as curl and most clients; `agent: false` sends `Connection: close`.
    const agent = options.connectionClose ? false : new http.Agent({ keepAlive: true })
    const done = (): void => {
      if (agent) agent.destroy()
      resolve(result)
    }
    const req = http.request(url, { method: 'POST', headers, agent })
    const chunks = (function* () {
      yield head
      for (let sent = 0; sent < UPLOAD_BYTES; sent += filler.length) yield filler
    })()
    const pump = (): void => {
      for (let next = chunks.next(); next.done !== true; next = chunks.next()) {
        if (!req.write(next.value)) {
          req.once('drain', pump)
          return
        }
      }
      req.end(tail, () => result.events.push('finish'))
    }
    req.on('continue', () => {
      result.events.push('continue')
      pump()
    })
    req.on('response', (res) => {
      result.events.push('response')
      result.status = res.statusCode ?? null
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (text += chunk))
      res.on('end', () => {
        result.body = JSON.parse(text)
        // The request may still be sending; wait for it to end one way or the other.
        if (req.writableFinished || req.destroyed) done()
        else req.once('finish', done).once('close', done)
      })
    })
    req.on('error', (error: NodeJS.ErrnoException) => {
      result.events.push(`error ${error.code ?? error.message}`)
      done()
    })
    if (!options.expectContinue) pump()
    else req.flushHeaders()
  })
}

/**
 * A raw HTTP/1.1 client that writes the whole oversized body (each write awaited) and only then
 * reads, as Python's urllib and requests do: the server must read the body away, not reset it.
 */
async function sendAllThenRead(
  baseUrl: string,
  path: string,
  chunked: boolean,
): Promise<{ response: string; error: string | null }> {
  const { hostname, port } = new URL(baseUrl)
  const socket = net.connect({ host: hostname, port: Number(port), allowHalfOpen: true })
  let response = ''
  let error: string | null = null
  socket.setEncoding('utf8')
  socket.on('data', (chunk: string) => (response += chunk))
  socket.on('error', (err: NodeJS.ErrnoException) => (error = err.code ?? err.message))
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()))
  const write = (data: string | Buffer): Promise<void> =>
    new Promise((resolve) => socket.write(data, () => resolve()))
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
  const filler = Buffer.alloc(64 * 1024, 'x')
  const length = chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${UPLOAD_BYTES}`
  await write(
    `POST ${path} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\n${length}\r\n\r\n`,
  )
  for (let sent = 0; sent < UPLOAD_BYTES && !socket.destroyed; sent += filler.length) {
    await write(chunked ? Buffer.concat([Buffer.from('10000\r\n'), filler, Buffer.from('\r\n')]) : filler)
  }
  if (chunked) await write('0\r\n\r\n')
  socket.end()
  await closed
  return { response, error }
}

describe('a body over the limit, sent to a real server', () => {
  let e2e: E2eServer
  let url: string

  beforeAll(async () => {
    e2e = await startE2eServer(sqliteDatabase, {
      env: { MAXQ_MAX_BODY_BYTES: String(MAX_BODY_BYTES), MAXQ_MAX_FIELDS_BYTES: String(MAX_FIELDS_BYTES) },
    })
    url = `${e2e.server.apiBase}/flows/${FLOW}/runs`
  })

  afterAll(async () => {
    await e2e?.close()
  })

  it.each([
    ['with Content-Length, keep-alive', false, false],
    ['chunked, keep-alive', true, false],
    ['with Content-Length, Connection: close', false, true],
    ['chunked, Connection: close', true, true],
  ])(
    'is answered 413 PAYLOAD_TOO_LARGE while the client is still uploading, %s',
    async (_label, chunked, connectionClose) => {
      const result = await upload(url, { chunked, connectionClose })
      expect(result.status, JSON.stringify(result)).toBe(413)
      expect(result.body).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', details: { maxBytes: MAX_BODY_BYTES } })
      expect(Object.keys(result.body as object).sort()).toEqual(['code', 'details', 'error'])
      // Not reset under the upload: the client stops sending when it reads the answer.
      expect(result.events).not.toContainEqual(expect.stringMatching(/^error/))
    },
  )

  it.each([
    ['with Content-Length', false],
    ['chunked', true],
  ])('lets a client that reads only after sending everything read its 413, %s', async (_label, chunked) => {
    const result = await sendAllThenRead(e2e.server.baseUrl, `/api/v1/flows/${FLOW}/runs`, chunked)
    expect(result.error).toBeNull()
    expect(result.response).toMatch(/^HTTP\/1\.1 413 /)
    expect(result.response).toMatch(/\r\nconnection: close\r\n/i)
    const body = JSON.parse(result.response.slice(result.response.indexOf('\r\n\r\n') + 4)) as unknown
    expect(body).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' })
  })

  it('answers a declared oversized body before the client sends it, when it asked 100-continue', async () => {
    const result = await upload(url, { chunked: false, expectContinue: true })
    expect(result.status).toBe(413)
    expect(result.body).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' })
    expect(result.events).not.toContain('continue')
  })

  it('tells a client that asked 100-continue to go on when the body fits', async () => {
    const res = await new Promise<{ status: number | undefined; events: string[] }>((resolve, reject) => {
      const body = JSON.stringify({ input: { small: true, calls: { start: { exit: 0 } } } })
      const events: string[] = []
      const req = http.request(url, {
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          expect: '100-continue',
        },
      })
      req.on('continue', () => {
        events.push('continue')
        req.end(body)
      })
      req.on('response', (response) => {
        response.resume()
        response.on('end', () => resolve({ status: response.statusCode, events }))
      })
      req.on('error', reject)
      req.flushHeaders()
    })
    expect(res).toEqual({ status: 201, events: ['continue'] })
  })

  it('answers the next request of the same client after a 413', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    try {
      const post = (body: string): Promise<number | undefined> =>
        new Promise((resolve, reject) => {
          const req = http.request(url, {
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/json' },
          })
          req.on('response', (res) => {
            res.resume()
            res.on('end', () => resolve(res.statusCode))
          })
          req.on('error', reject)
          req.end(body)
        })
      expect(await post(JSON.stringify({ input: 'x'.repeat(MAX_BODY_BYTES) }))).toBe(413)
      expect(await post(JSON.stringify({ input: { calls: { start: { exit: 0 } } } }))).toBe(201)
    } finally {
      agent.destroy()
    }
  })

  it('takes a fields post up to MAXQ_MAX_FIELDS_BYTES, above MAXQ_MAX_BODY_BYTES', async () => {
    const runId = await e2e.trigger({ start: { exit: 0 } })
    const big = { fields: { blob: 'y'.repeat(MAX_FIELDS_BYTES / 2) } }
    // No such step: the size passed, so the store answers.
    const fits = await e2e.request('POST', `/runs/${runId}/steps/nope/fields`, big)
    expect(fits.body).toMatchObject({ code: 'STEP_NOT_FOUND' })
    const over = await e2e.request('POST', `/runs/${runId}/steps/nope/fields`, {
      fields: { blob: 'y'.repeat(MAX_FIELDS_BYTES) },
    })
    expect(over.status).toBe(413)
    expect(over.body).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', details: { maxBytes: MAX_FIELDS_BYTES } })
  })
})
