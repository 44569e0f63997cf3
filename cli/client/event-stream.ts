// The CLI's reader of the API's event stream (docs/events.md): server-sent events over fetch,
// parsed block by block. `maxq … --follow` redraws when one arrives instead of polling.

import type { ApiClient } from './api-client.js'

export interface StreamEvent {
  event: string
  /** Give it back as Last-Event-ID to resume after it. */
  id: string | undefined
  data: string
}

export interface EventStream {
  /** The next event; null once the server ended the stream (or the connection dropped). */
  next(): Promise<StreamEvent | null>
  /** Whether an event is already read and waiting: `next()` would answer at once. */
  pending(): boolean
  close(): void
}

/**
 * Opens `path` (e.g. `/runs/{run}/events`) as an event stream; null when the server does not serve
 * one there (an older server, a proxy that buffers), so the caller can fall back to polling.
 */
export async function openEventStream(
  client: ApiClient,
  path: string,
  lastEventId?: string,
): Promise<EventStream | null> {
  const controller = new AbortController()
  let response: Response
  try {
    response = await client.open(path, {
      headers: { accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
      signal: controller.signal,
    })
  } catch {
    return null
  }
  const type = response.headers.get('content-type') ?? ''
  if (response.status !== 200 || !type.startsWith('text/event-stream') || response.body === null) {
    controller.abort()
    return null
  }
  const reader = response.body.getReader()
  const decoder = new TextDecoder()
  const ready: StreamEvent[] = []
  let buffer = ''
  let ended = false

  const parse = (block: string): void => {
    let event = 'message'
    let id: string | undefined
    const data: string[] = []
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue // a keepalive
      const colon = line.indexOf(':')
      const field = colon < 0 ? line : line.slice(0, colon)
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
      if (field === 'event') event = value
      else if (field === 'id') id = value
      else if (field === 'data') data.push(value)
    }
    if (data.length > 0) ready.push({ event, id, data: data.join('\n') })
  }

  return {
    async next() {
      for (;;) {
        const event = ready.shift()
        if (event !== undefined) return event
        if (ended) return null
        const chunk = await reader.read().catch(() => ({ done: true as const, value: undefined }))
        if (chunk.done) {
          ended = true
          continue
        }
        buffer += decoder.decode(chunk.value, { stream: true }).replaceAll('\r\n', '\n')
        let end: number
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          parse(buffer.slice(0, end))
          buffer = buffer.slice(end + 2)
        }
      }
    },
    pending: () => ready.length > 0,
    close() {
      ended = true
      controller.abort()
    },
  }
}
