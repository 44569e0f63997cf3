// How the CLI shows things to people: aligned tables, short durations and times.

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)))
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd()
  return [line(header), ...rows.map(line)].join('\n') + '\n'
}

export function duration(ms: number | null): string {
  if (ms === null || ms < 0) return '-'
  if (ms < 1000) return `${Math.round(ms)}ms`
  const s = ms / 1000
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`
}

/** From start to end, or to now while it runs. */
export function elapsed(startedAt: number | null, completedAt: number | null, now = Date.now()): string {
  return startedAt === null ? '-' : duration((completedAt ?? now) - startedAt)
}

export function time(at: number | null): string {
  return at === null
    ? '-'
    : new Date(at)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z')
}

function waitValue(key: string, value: unknown): string {
  if (Array.isArray(value)) return value.join(', ')
  // `until` (a retry's due time) is epoch ms on the wire; people read a time.
  if (key === 'until' && typeof value === 'number') return time(value)
  return String(value)
}

const START_WORKER = 'maxq tick --watch'

/**
 * Why a pending thing waits, as the API says it (`waitingFor`), in one line: `no_worker`,
 * `dependencies (steps: a, b)`, `retry_delay (until: 2026-12-07 02:30:00Z)`.
 */
export function waitingText(waitingFor: unknown): string {
  if (waitingFor === undefined || waitingFor === null) return ''
  if (typeof waitingFor === 'string') return waitingFor
  if (typeof waitingFor === 'object' && 'reason' in waitingFor) {
    const { reason, ...rest } = waitingFor as { reason: string } & Record<string, unknown>
    const more = Object.entries(rest)
      .map(([key, value]) => `${key}: ${waitValue(key, value)}`)
      .join('; ')
    // The one reason a person must act on: say how.
    if (reason === 'no_worker' && more === '')
      return `no_worker (no worker is alive; start one: ${START_WORKER})`
    return more === '' ? reason : `${reason} (${more})`
  }
  return JSON.stringify(waitingFor)
}

const SYMBOLS: Record<string, string> = {
  completed: '✓',
  failed: '✗',
  cancelled: '-',
  running: '▶',
  pending: '·',
  paused: '‖',
}

export function symbol(status: string): string {
  return SYMBOLS[status] ?? '?'
}

/** The last `count` non-empty lines of a captured output. */
export function lastLines(text: string | null, count: number): string[] {
  return (text ?? '')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(-count)
}
