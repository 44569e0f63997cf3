// Reads a request body as text, refusing more than `maxBytes` (413) before and while reading.
//
// Under @hono/node-server the body is read from the Node IncomingMessage itself: asking Hono for
// `c.req.text()` (or for `c.req.raw.body`, as hono's bodyLimit does) makes the adapter build a
// WHATWG Request with a web stream around the socket, which cost more CPU than the whole store call
// of a field post. Elsewhere (app.request in tests, other hosts) the standard Request is read.

import type { IncomingMessage } from 'node:http'
import type { Context } from 'hono'
import type { AppEnv } from './app-env.js'
import { payloadTooLarge } from './errors.js'

function nodeIncoming(c: Context<AppEnv>): IncomingMessage | undefined {
  // @hono/node-server passes `{ incoming, outgoing }` as the env; other hosts pass something else.
  const env: unknown = c.env
  if (typeof env !== 'object' || env === null || !('incoming' in env)) return undefined
  return (env as { incoming: IncomingMessage }).incoming
}

export async function readBody(c: Context<AppEnv>, maxBytes: number): Promise<string> {
  const declared = Number(c.req.header('content-length'))
  if (declared > maxBytes) throw payloadTooLarge(maxBytes)
  const incoming = nodeIncoming(c)
  if (incoming === undefined) {
    const text = await c.req.text()
    if (Buffer.byteLength(text) > maxBytes) throw payloadTooLarge(maxBytes)
    return text
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of incoming as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > maxBytes) throw payloadTooLarge(maxBytes)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks, size).toString('utf8')
}
