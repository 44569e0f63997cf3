// The dashboard's only script, loaded by every page (as a file: the Content-Security-Policy allows
// no inline script). A page's live part (`#live`, with data-live-url) is fetched again and swapped
// in place whenever the run's event stream (docs/events.md, through /ui/runs/{run}/events) says
// something changed, or every 2 s while there is no stream; it stops once the run has ended.
// A group's list opens when its box in the DAG is clicked (a link to its anchor).

const POLL_MS = 2000
/** Events come in bursts (a stream starts with the run's whole state): one fetch per burst. */
const SETTLE_MS = 300
/**
 * A big run's page takes a while to make (1,000 steps read through the API): wait at least twice
 * as long as the last fetch took, so one open page never keeps the server busy.
 */
const BACKOFF_FACTOR = 2
const EVENT_TYPES = ['run', 'stage', 'step', 'flow_call']

function openHashTarget(): void {
  if (location.hash.length < 2) return
  const target = document.getElementById(decodeURIComponent(location.hash.slice(1)))
  if (target instanceof HTMLDetailsElement) {
    target.open = true
    target.scrollIntoView({ block: 'nearest' })
  }
}

/** Which <details> are open, by id or by position, so a swap keeps what the reader opened. */
function openDetails(root: Element): Set<string> {
  const keys = new Set<string>()
  root.querySelectorAll('details').forEach((details, i) => {
    if (details.open) keys.add(details.id || `#${i}`)
  })
  return keys
}

function follow(initial: HTMLElement): void {
  const liveUrl = initial.dataset.liveUrl
  if (liveUrl === undefined || initial.dataset.final === 'true') return
  let stopped = false
  let inFlight = false
  let again = false
  let settle: ReturnType<typeof setTimeout> | null = null
  let poller: ReturnType<typeof setInterval> | null = null
  let source: EventSource | null = null
  let lastFetchMs = 0

  const stop = (): void => {
    stopped = true
    source?.close()
    if (poller !== null) clearInterval(poller)
  }

  const swap = (html: string): void => {
    const current = document.getElementById('live')
    const next = new DOMParser().parseFromString(html, 'text/html').getElementById('live')
    if (current === null || next === null) return
    const open = openDetails(current)
    next.querySelectorAll('details').forEach((details, i) => {
      if (open.has(details.id || `#${i}`)) details.open = true
    })
    current.replaceWith(document.importNode(next, true))
    if (next.dataset.final === 'true') stop()
  }

  const refresh = async (): Promise<void> => {
    if (inFlight) {
      again = true
      return
    }
    inFlight = true
    const started = performance.now()
    try {
      const res = await fetch(liveUrl, { credentials: 'same-origin' })
      if (res.ok) swap(await res.text())
      else if (res.status === 401) location.reload()
    } catch {
      // The server is away for a moment: the next event or poll tries again.
    } finally {
      lastFetchMs = performance.now() - started
      inFlight = false
      if (again && !stopped) {
        again = false
        schedule()
      }
    }
  }

  const schedule = (): void => {
    if (settle !== null || stopped) return
    settle = setTimeout(
      () => {
        settle = null
        void refresh()
      },
      Math.max(SETTLE_MS, lastFetchMs * BACKOFF_FACTOR),
    )
  }

  const poll = (): void => {
    if (poller === null && !stopped) poller = setInterval(schedule, POLL_MS)
  }

  const eventsUrl = initial.dataset.eventsUrl
  if (eventsUrl === undefined || typeof EventSource === 'undefined') return poll()
  source = new EventSource(eventsUrl)
  for (const type of EVENT_TYPES) source.addEventListener(type, schedule)
  source.addEventListener('open', () => {
    if (poller !== null) clearInterval(poller)
    poller = null
    schedule()
  })
  // No stream (an API without it answers 404), or it dropped: poll until it is back.
  source.addEventListener('error', () => {
    poll()
    schedule()
  })
}

window.addEventListener('hashchange', openHashTarget)
document.addEventListener('DOMContentLoaded', () => {
  openHashTarget()
  const live = document.getElementById('live')
  if (live !== null) follow(live)
})
