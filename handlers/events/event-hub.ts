// The API process's one poller for every event stream (docs/events.md). It runs only while a stream
// is open: no timer, no LISTEN and no query otherwise. Each read is shared by all streams; each
// stream keeps only what it last sent of each entity, to send what differs. Handlers subscribe and
// unsubscribe; this is the only state the API keeps between requests, and it is per process.

import type { ApiStore, Change, ChangeScope } from '../../db/store.js'
import type { RunStatus } from '../../db/types.js'

/** A read starts this long before the previous one began: a change stamped earlier may commit later. */
export const OVERLAP_MS = 5000
/** While streams are open, a read at least this often (changes that wake nobody: another host's claim). */
export const FALLBACK_POLL_MS = 1000
/** At most one read per this long, however many wake-ups come: the poller's work stays bounded. */
export const MIN_POLL_GAP_MS = 100
/** A stream this many events behind (a client that stopped reading) is ended; it can resume. */
export const MAX_QUEUED_EVENTS = 10_000
/** A comment at least this often, so proxies and clients see an idle stream is alive. */
export const KEEPALIVE_MS = 15_000

/** One change as a stream sends it; `id` holds the stream position (see `eventPosition`). */
export type StreamEvent = Change & { id: string }

export interface Listener {
  /** One run's stream, or null for every run's. */
  runId: string | null
  /** The resume point (an event id's position), or null for a new stream. */
  after: number | null
  /** Writes one batch; the hub sends the next batch once this one is written. */
  deliver(events: StreamEvent[]): Promise<void>
  /** The stream is over: its run ended (or was deleted) and all was sent, or it fell too far behind. */
  end(): void
}

export interface EventHubOptions {
  fallbackPollMs?: number
  /** How often an idle stream says `: keepalive` (KEEPALIVE_MS; tests make it short). */
  keepaliveMs?: number
  logger?: (line: string) => void
}

interface Sent {
  sig: string
  at: number
  runId: string
}

interface Subscriber {
  listener: Listener
  joined: boolean
  /** The id of the next batch: every change stamped before it has been handed to the stream. */
  position: number
  sent: Map<string, Sent>
  /** Writes in flight: batches are written in order, and a stuck client does not hold the poller. */
  queue: Promise<void>
  queued: number
  /** No longer read for: its stream ended or its client left. */
  over: boolean
  /** Its client left: nothing more is written. */
  gone: boolean
}

const ENDED: ReadonlySet<RunStatus> = new Set(['completed', 'failed'])

/** `<position>-<n>`: the position says where to resume; n only tells a stream's events apart. */
export const EVENT_ID = /^(\d{1,16})(?:-\d{1,16})?$/

export function eventPosition(id: string): number | null {
  const match = EVENT_ID.exec(id)
  return match?.[1] === undefined ? null : Number(match[1])
}

export class EventHub {
  readonly #store: Pick<ApiStore, 'readChanges' | 'subscribe'>
  readonly #fallbackMs: number
  /** How often the streams of this hub send `: keepalive`. */
  readonly keepaliveMs: number
  readonly #logger: (line: string) => void
  readonly #subscribers = new Set<Subscriber>()
  #dirty = false
  #polling = false
  #lastStart: number | null = null
  #lastPollAt = 0
  #timer: ReturnType<typeof setInterval> | null = null
  #unlisten: Promise<(() => Promise<void>) | null> | null = null
  #failing = false
  #reads = 0
  #counter = 0

  constructor(store: Pick<ApiStore, 'readChanges' | 'subscribe'>, options: EventHubOptions = {}) {
    this.#store = store
    this.#fallbackMs = options.fallbackPollMs ?? FALLBACK_POLL_MS
    this.keepaliveMs = options.keepaliveMs ?? KEEPALIVE_MS
    this.#logger = options.logger ?? ((line) => console.error(line))
  }

  /** What the hub is doing: streams open, whether it has its timer and LISTEN, reads made so far. */
  get stats(): { listeners: number; active: boolean; reads: number } {
    return { listeners: this.#subscribers.size, active: this.#timer !== null, reads: this.#reads }
  }

  /** Something may have changed (this process's API, or another process's NOTIFY). */
  wake(): void {
    if (this.#subscribers.size === 0) return
    this.#dirty = true
    if (!this.#polling) void this.#loop()
  }

  /** Starts a stream; answers the function that stops it (idempotent). */
  subscribe(listener: Listener): () => void {
    const subscriber: Subscriber = {
      listener,
      joined: false,
      position: listener.after ?? 0,
      sent: new Map(),
      queue: Promise.resolve(),
      queued: 0,
      over: false,
      gone: false,
    }
    this.#subscribers.add(subscriber)
    if (this.#subscribers.size === 1) this.#start()
    this.wake()
    return () => {
      subscriber.gone = true
      this.#remove(subscriber)
    }
  }

  #start(): void {
    this.#timer = setInterval(() => this.wake(), this.#fallbackMs)
    this.#timer.unref()
    this.#unlisten = this.#store
      .subscribe(() => this.wake())
      .catch((error: unknown) => {
        this.#logger(
          `event stream: cannot LISTEN for wake-ups, reading every ${this.#fallbackMs} ms: ${message(error)}`,
        )
        return null
      })
  }

  #remove(subscriber: Subscriber): void {
    subscriber.over = true
    if (!this.#subscribers.delete(subscriber) || this.#subscribers.size > 0) return
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
    this.#lastStart = null
    const unlisten = this.#unlisten
    this.#unlisten = null
    void unlisten?.then((stop) => stop?.()).catch(() => undefined)
  }

  async #loop(): Promise<void> {
    this.#polling = true
    try {
      while (this.#dirty && this.#subscribers.size > 0) {
        this.#dirty = false
        const wait = this.#lastPollAt + MIN_POLL_GAP_MS - Date.now()
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
        this.#lastPollAt = Date.now()
        try {
          await this.#poll()
          if (this.#failing) this.#logger('event stream: reading changes again')
          this.#failing = false
        } catch (error) {
          // The database is away: the streams stay open, the next wake-up or fallback tick retries.
          if (!this.#failing) this.#logger(`event stream: cannot read changes: ${message(error)}`)
          this.#failing = true
        }
      }
    } finally {
      this.#polling = false
    }
  }

  async #poll(): Promise<void> {
    // New streams first: their start (a run's whole state, or a resume) is read before the shared
    // read, so what the shared read finds is never older than what they were just sent.
    for (const subscriber of [...this.#subscribers]) {
      if (subscriber.joined) continue
      await this.#join(subscriber)
    }
    const joined = [...this.#subscribers].filter((subscriber) => subscriber.joined && !subscriber.over)
    if (joined.length === 0) return
    const scope: ChangeScope = {
      allRuns: joined.some((subscriber) => subscriber.listener.runId === null),
      runIds: [
        ...new Set(joined.flatMap(({ listener }) => (listener.runId === null ? [] : [listener.runId]))),
      ],
    }
    const started = Date.now()
    const since = (this.#lastStart ?? started) - OVERLAP_MS
    this.#reads++
    const { changes, runs } = await this.#store.readChanges(scope, since)
    // Only a read that answered moves the window: after a failed one the next reads from as far back.
    this.#lastStart = started
    for (const subscriber of joined) this.#hand(subscriber, changes, runs, started - OVERLAP_MS, since)
  }

  async #join(subscriber: Subscriber): Promise<void> {
    const { runId, after } = subscriber.listener
    const started = Date.now()
    if (runId === null && after === null) {
      // A new stream of every run starts about now: the next shared read's window.
      subscriber.position = (this.#lastStart ?? started) - OVERLAP_MS
    } else {
      // A position from the future (not one we sent) would skip what happens until then.
      const from = Math.min(after ?? 0, started)
      const scope: ChangeScope =
        runId === null ? { allRuns: true, runIds: [] } : { allRuns: false, runIds: [runId] }
      this.#reads++
      const { changes, runs } = await this.#store.readChanges(scope, from)
      this.#hand(subscriber, changes, runs, Math.max(from, started - OVERLAP_MS), from)
    }
    subscriber.joined = true
  }

  /**
   * Queues for one stream the states that differ from what it was sent, then moves its position to
   * `next`. A run's stream ends after its run's final state.
   */
  #hand(
    subscriber: Subscriber,
    changes: readonly Change[],
    runs: ReadonlyMap<string, RunStatus>,
    next: number,
    since: number,
  ): void {
    if (subscriber.over) return
    const { runId } = subscriber.listener
    const batch: StreamEvent[] = []
    let final: StreamEvent | null = null
    const id = (position: number) => `${position}-${++this.#counter}`
    for (const change of changes) {
      if (runId !== null && change.data.runId !== runId) continue
      const key = entityKey(change)
      const sig = JSON.stringify({ ...change.data, at: undefined })
      if (subscriber.sent.get(key)?.sig === sig) continue
      subscriber.sent.set(key, { sig, at: change.data.at, runId: change.data.runId })
      const event: StreamEvent = { ...change, id: id(subscriber.position) }
      if (runId !== null && change.event === 'run' && ENDED.has(change.data.status)) {
        // Its run's last event: all of the run was sent, whatever the read's window.
        final = { ...event, id: id(Math.max(subscriber.position, change.data.at + 1)) }
      } else {
        batch.push(event)
      }
    }
    if (final !== null) batch.push(final)
    subscriber.position = Math.max(subscriber.position, next)
    for (const [key, sent] of subscriber.sent) {
      // Forget entities that left the read (runs ended before the window) and steps long unchanged.
      if (!runs.has(sent.runId) || (key.startsWith('step:') && sent.at < since - OVERLAP_MS)) {
        subscriber.sent.delete(key)
      }
    }
    // A run's end commits after everything of the run (the run lock orders them), so once its status
    // reads as ended, the rest was read with it or before; a deleted run has nothing more to say.
    const status = runId === null ? null : runs.get(runId)
    const ended =
      runId !== null && (final !== null || status === undefined || (status !== null && ENDED.has(status)))
    if (batch.length > 0) this.#enqueue(subscriber, batch)
    if (ended) this.#finish(subscriber)
  }

  #enqueue(subscriber: Subscriber, batch: StreamEvent[]): void {
    // One batch is always taken (a big run's whole state); a backlog on top of one is not.
    if (subscriber.queued > 0 && subscriber.queued + batch.length > MAX_QUEUED_EVENTS) {
      this.#finish(subscriber)
      return
    }
    subscriber.queued += batch.length
    subscriber.queue = subscriber.queue.then(async () => {
      try {
        if (!subscriber.gone) await subscriber.listener.deliver(batch)
      } catch {
        // The client left while we wrote; its stream's abort unsubscribes it too.
        this.#finish(subscriber)
      } finally {
        subscriber.queued -= batch.length
      }
    })
  }

  /** Ends the stream once what was queued for it is written. */
  #finish(subscriber: Subscriber): void {
    if (subscriber.over && !this.#subscribers.has(subscriber)) return
    this.#remove(subscriber)
    subscriber.queue = subscriber.queue.then(() => subscriber.listener.end())
  }
}

function entityKey(change: Change): string {
  switch (change.event) {
    case 'run':
      return `run:${change.data.runId}`
    case 'stage':
      return `stage:${change.data.runId}:${change.data.stage}`
    case 'step':
      return `step:${change.data.runId}:${change.data.stepId}`
    case 'flow_call':
      return `flow_call:${change.data.runId}:${change.data.callId}`
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
