// How the dashboard writes times, durations and statuses: short, and the same on every page.

/** `2026-12-07 03:07:31` in UTC; a dash for no time. */
export function formatTime(at: number | null | undefined): string {
  if (at === null || at === undefined) return '–'
  return new Date(at).toISOString().replace('T', ' ').slice(0, 19)
}

/** `850 ms`, `12.3 s`, `4 m 05 s`, `2 h 03 m`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  const seconds = Math.floor(ms / 1000)
  if (seconds < 3600) return `${Math.floor(seconds / 60)} m ${String(seconds % 60).padStart(2, '0')} s`
  return `${Math.floor(seconds / 3600)} h ${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')} m`
}

/** From start to end, or to now while it runs; a dash before it started. */
export function elapsed(startedAt: number | null, completedAt: number | null, now: number): string {
  if (startedAt === null) return '–'
  return formatDuration((completedAt ?? now) - startedAt)
}

/** Why a pending run or step waits, in words (the API's `waitingFor`). */
export function waitingText(waiting: unknown): string {
  if (waiting === null || waiting === undefined || typeof waiting !== 'object') return ''
  const w = waiting as { reason?: string; steps?: string[]; stage?: string; until?: number }
  switch (w.reason) {
    case 'paused':
      return 'the run is paused'
    case 'dependencies':
      return `waits for ${(w.steps ?? []).slice(0, 5).join(', ')}${(w.steps?.length ?? 0) > 5 ? ', …' : ''}`
    case 'earlier_stage':
      return `waits for stage ${w.stage ?? '?'}`
    case 'retry_delay':
      return `retries after ${formatTime(w.until)}`
    case 'no_worker':
      return 'no worker is running'
    case 'concurrency_limit':
      return 'at the concurrency limit'
    case 'queued':
      return 'queued: the next claim takes it'
    default:
      return JSON.stringify(waiting)
  }
}

/** JSON for reading: indented, or the text itself. */
export function pretty(value: unknown): string {
  if (typeof value === 'string') return value
  return JSON.stringify(value, null, 2) ?? ''
}
