// A small server-sent events reader over fetch, for the event stream tests: opens a stream, parses
// its blocks as the SSE spec does (fields, comments, `retry:`), and reads events one at a time or
// until the server ends the stream. Closing aborts the request, as a client that goes away would.

export interface SseEvent {
  event: string
  id: string | undefined
  data: string
}

export interface SseStream {
  status: number
  headers: Headers
  /** The body as text when the answer was not a stream (an error). */
  text: string
  /** `retry:` values and `:` comments seen so far. */
  retries: number[]
  comments: string[]
  /** The next event; null once the server ended the stream. */
  next(): Promise<SseEvent | null>
  /** Events until `stop` says so (that one included) or the stream ends. */
  readUntil(stop: (event: SseEvent) => boolean): Promise<SseEvent[]>
  /** Every event until the server ends the stream. */
  readToEnd(): Promise<SseEvent[]>
  /** Reads until a `:` comment with this text arrives (true) or the stream ends (false). */
  readComment(text: string): Promise<boolean>
  close(): void
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const controller = new AbortController()
  const res = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: controller.signal,
  })
  const isStream = (res.headers.get('content-type') ?? '').startsWith('text/event-stream')
  const text = isStream || res.body === null ? '' : await res.text()
  const reader = isStream && res.body !== null ? res.body.getReader() : null
  const decoder = new TextDecoder()
  const retries: number[] = []
  const comments: string[] = []
  const ready: SseEvent[] = []
  let buffer = ''
  let ended = reader === null

  const parse = (block: string): void => {
    let event = 'message'
    let id: string | undefined
    const data: string[] = []
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        comments.push(line.slice(1).trim())
        continue
      }
      const colon = line.indexOf(':')
      const field = colon < 0 ? line : line.slice(0, colon)
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
      if (field === 'event') event = value
      else if (field === 'id') id = value
      else if (field === 'data') data.push(value)
      else if (field === 'retry') retries.push(Number(value))
    }
    if (data.length > 0) ready.push({ event, id, data: data.join('\n') })
  }

  /** Reads one more chunk and parses the blocks it completes; false once the stream has ended. */
  const pump = async (): Promise<boolean> => {
    if (ended || reader === null) return false
    const chunk = await reader.read().catch(() => ({ done: true as const, value: undefined }))
    if (chunk.done) {
      ended = true
      return false
    }
    buffer += decoder.decode(chunk.value, { stream: true }).replaceAll('\r\n', '\n')
    let end: number
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      parse(buffer.slice(0, end))
      buffer = buffer.slice(end + 2)
    }
    return true
  }

  const next = async (): Promise<SseEvent | null> => {
    for (;;) {
      const event = ready.shift()
      if (event !== undefined) return event
      if (!(await pump())) return ready.shift() ?? null
    }
  }

  const readComment = async (text: string): Promise<boolean> => {
    for (;;) {
      if (comments.includes(text)) return true
      if (!(await pump())) return comments.includes(text)
    }
  }

  const readUntil = async (stop: (event: SseEvent) => boolean): Promise<SseEvent[]> => {
    const events: SseEvent[] = []
    for (;;) {
      const event = await next()
      if (event === null) return events
      events.push(event)
      if (stop(event)) return events
    }
  }

  return {
    status: res.status,
    headers: res.headers,
    text,
    retries,
    comments,
    next,
    readUntil,
    readToEnd: () => readUntil(() => false),
    readComment,
    close: () => {
      ended = true
      controller.abort()
    },
  }
}
