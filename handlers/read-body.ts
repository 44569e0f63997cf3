// Reads a request body as bytes, refusing more than `maxBytes` (413) before and while reading.
//
// Under @hono/node-server the body is read from the Node IncomingMessage itself: asking Hono for
// `c.req.text()` (or for `c.req.raw.body`, as hono's bodyLimit does) makes the adapter build a
// WHATWG Request with a web stream around the socket, which cost more CPU than the whole store call
// of a field post. Elsewhere (app.request in tests, other hosts) the standard Request is read.
//
// A refused body is not left on the wire. Destroying the request (what breaking out of a
// `for await` over it does) closes the socket while the client is still sending: its next write
// fails with EPIPE or ECONNRESET, and a client that reads only after sending (Python's requests,
// for one) never sees the 413. So the answer goes out first, with `Connection: close` (a client
// that reads it, curl or Node's http, stops sending; Node's keep-alive client would otherwise wait
// forever for a 'drain'), and the rest of the body is read and thrown away, up to LINGER_BYTES or
// LINGER_MS, before the socket closes; only a client that goes past that loses the connection,
// long after the answer reached it. A client that sent `Expect: 100-continue` is told to go on only
// once the body is actually wanted, so curl never uploads a body we refuse.

import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Context } from 'hono'
import type { AppEnv } from './app-env.js'
import { ApiError, payloadTooLarge } from './errors.js'

/** The most of a refused or unread body read and thrown away after the answer, before closing. */
export const LINGER_BYTES = 64 * 1024 * 1024

/** The longest a refused or unread body is read and thrown away after the answer, before closing. */
export const LINGER_MS = 10_000

interface NodeBindings {
  incoming: IncomingMessage
  outgoing: ServerResponse
}

function nodeBindings(c: Context<AppEnv>): NodeBindings | undefined {
  // @hono/node-server passes `{ incoming, outgoing }` as the env; other hosts pass something else.
  const env: unknown = c.env
  if (typeof env !== 'object' || env === null || !('incoming' in env) || !('outgoing' in env))
    return undefined
  return env as NodeBindings
}

export async function readBody(c: Context<AppEnv>, maxBytes: number): Promise<Buffer> {
  const node = nodeBindings(c)
  const declared = Number(c.req.header('content-length'))
  if (declared > maxBytes) {
    if (node !== undefined) discardBody(node)
    throw payloadTooLarge(maxBytes)
  }
  if (node === undefined) {
    const bytes = Buffer.from(await c.req.arrayBuffer())
    if (bytes.length > maxBytes) throw payloadTooLarge(maxBytes)
    return bytes
  }
  if (/^100-continue$/i.test(node.incoming.headers.expect ?? '') && !node.outgoing.headersSent) {
    node.outgoing.writeContinue()
  }
  return readIncoming(node, maxBytes)
}

function readIncoming(node: NodeBindings, maxBytes: number): Promise<Buffer> {
  const { incoming } = node
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const stop = (): void => {
      incoming.off('data', onData)
      incoming.off('end', onEnd)
      incoming.off('error', onFailure)
      incoming.off('close', onFailure)
    }
    function onData(chunk: Buffer): void {
      size += chunk.length
      if (size <= maxBytes) {
        chunks.push(chunk)
        return
      }
      stop()
      discardBody(node)
      reject(payloadTooLarge(maxBytes))
    }
    function onEnd(): void {
      stop()
      resolve(Buffer.concat(chunks, size))
    }
    function onFailure(): void {
      stop()
      // The client went away mid-body: no one reads this answer, but it must not be a logged 500.
      reject(new ApiError(400, 'INVALID_JSON', 'Request body ended before it was complete'))
    }
    incoming.on('data', onData)
    incoming.once('end', onEnd)
    incoming.once('error', onFailure)
    incoming.once('close', onFailure)
  })
}

const discarding = new WeakSet<IncomingMessage>()

/**
 * Reads whatever is left of the request body and throws it away, so the connection stays usable and
 * the client can finish sending and read the answer; past LINGER_BYTES or LINGER_MS the connection
 * is closed, but never before the answer has been written.
 */
function discardBody({ incoming, outgoing }: NodeBindings): void {
  const socket = incoming.socket
  if (incoming.complete || incoming.destroyed || socket === null || discarding.has(incoming)) return
  discarding.add(incoming)
  if (!outgoing.headersSent) outgoing.setHeader('Connection', 'close')
  let discarded = 0
  let closeWhenRead = false
  // After an answer with `Connection: close`, Node calls destroySoon(): the socket closes as soon
  // as the answer is flushed, and the rest of the body arriving on a closed socket makes the kernel
  // reset the connection. Instead the answer's end is sent (FIN; the socket stays half-open) and
  // the socket closes once the body has been read.
  const destroySoon = socket.destroySoon
  socket.destroySoon = () => {
    socket.end()
    closeWhenRead = true
  }
  const stop = (): void => {
    clearTimeout(timer)
    incoming.off('data', onData)
    incoming.off('end', onEnd)
    incoming.off('close', stop)
    socket.destroySoon = destroySoon
  }
  const onEnd = (): void => {
    stop()
    if (closeWhenRead) socket.destroySoon()
  }
  const giveUp = (): void => {
    stop()
    incoming.pause()
    const close = (): void => void socket.destroy()
    if (outgoing.writableFinished) close()
    else outgoing.once('finish', close).once('close', close)
  }
  const timer = setTimeout(giveUp, LINGER_MS)
  timer.unref()
  function onData(chunk: Buffer): void {
    discarded += chunk.length
    if (discarded > LINGER_BYTES) giveUp()
  }
  incoming.on('data', onData)
  incoming.once('end', onEnd)
  incoming.once('close', stop)
  incoming.resume()
}

/**
 * After the answer to a request that did not read its body (a GET with a body, a 401, a 415, a POST
 * to /abort), the body still has to leave the wire for the connection to be usable: bounded, as
 * above. Called by the app for every request; does nothing once the body has been read.
 */
export function discardUnreadBody(c: Context<AppEnv>): void {
  const node = nodeBindings(c)
  if (node !== undefined) discardBody(node)
}
