// One event stream on the wire (docs/events.md): `retry:` on connect, the hub's batches as SSE
// events, a `: keepalive` comment while nothing changes, and the subscription dropped the moment
// the client leaves or the stream ends.

import type { Context } from 'hono'
import { streamSSE } from 'hono/streaming'
import type { AppEnv } from '../app-env.js'
import { validationFailed } from '../errors.js'
import { eventPosition } from './event-hub.js'

/** The client reconnects this long after a drop (an EventSource reads it from `retry:`). */
export const RETRY_MS = 2000

/** The resume point: `Last-Event-ID` (what an EventSource sends) or `?after=`; null for a new stream. */
export function resumePoint(c: Context<AppEnv>, after: string | undefined): number | null {
  const id = c.req.header('last-event-id') ?? after
  if (id === undefined || id === '') return null
  const position = eventPosition(id.trim())
  if (position === null) {
    throw validationFailed([
      { path: 'Last-Event-ID', message: 'expected an event id this stream sent, like 1765080000123-7' },
    ])
  }
  return position
}

export function streamEvents(c: Context<AppEnv>, runId: string | null, after: number | null): Response {
  return streamSSE(c, async (stream) => {
    let finish = (): void => undefined
    const done = new Promise<void>((resolve) => (finish = resolve))
    stream.onAbort(finish)
    await stream.write(`retry: ${RETRY_MS}\n\n`)
    const unsubscribe = c.get('events').subscribe({
      runId,
      after,
      deliver: async (events) => {
        for (const event of events) {
          await stream.writeSSE({ event: event.event, id: event.id, data: JSON.stringify(event.data) })
        }
      },
      end: finish,
    })
    const keepalive = setInterval(() => {
      stream.write(': keepalive\n\n').catch(finish)
    }, c.get('events').keepaliveMs)
    try {
      await done
    } finally {
      clearInterval(keepalive)
      unsubscribe()
    }
  })
}
