// `maxq run --follow` and `maxq watch`: a run's progress until it ends. On a terminal the picture
// (each stage with steps done/total and the steps running, failures with their exit and the last
// lines of their stderr, the run's warnings) is redrawn in place; piped, each change is one line,
// so a log file or CI output reads as a history. It redraws when the run's event stream
// (docs/events.md) says something changed; a server without one is polled every `intervalMs`.

import type { ApiClient } from './api-client.js'
import { openEventStream } from './event-stream.js'
import { elapsed, lastLines, symbol, time } from './format.js'
import type { LogView, RunView, StepView } from './views.js'

export interface FollowOptions {
  client: ApiClient
  runId: string
  write: (text: string) => void
  /** Redraw in place (a terminal) or print changes (a pipe). */
  tty: boolean
  /** How often to poll when the server has no event stream; also the wait before reconnecting it. */
  intervalMs?: number
}

const ENDED = new Set(['completed', 'failed'])

/** Follows the run until it ends; answers it as it ended. */
export async function follow(options: FollowOptions): Promise<RunView> {
  const { client, runId, write } = options
  const path = `/runs/${encodeURIComponent(runId)}`
  const interval = options.intervalMs ?? 500
  const pause = () => new Promise((resolve) => setTimeout(resolve, interval))
  const draw = drawer(options, path)
  const finish = (run: RunView): RunView => {
    if (run.status === 'failed' && run.error !== null) write(`error: ${JSON.stringify(run.error)}\n`)
    return run
  }

  let run = await draw()
  if (ENDED.has(run.status)) return finish(run)
  let lastId: string | undefined
  let stream = await openEventStream(client, `${path}/events`)
  while (stream !== null) {
    const event = await stream.next()
    if (event === null) {
      // The server ends the stream after the run's final event; anything else was a drop: resume.
      run = await draw()
      if (ENDED.has(run.status)) return finish(run)
      await pause()
      stream = await openEventStream(client, `${path}/events`, lastId)
      continue
    }
    lastId = event.id ?? lastId
    // Everything already here is one redraw: a run's first events arrive all at once.
    while (stream.pending()) lastId = (await stream.next())?.id ?? lastId
    run = await draw()
    if (ENDED.has(run.status)) {
      stream.close()
      return finish(run)
    }
  }
  // No event stream (an older server): poll.
  for (;;) {
    await pause()
    run = await draw()
    if (ENDED.has(run.status)) return finish(run)
  }
}

/** Reads the run, its steps and its warnings, and draws them; answers the run. */
function drawer(options: FollowOptions, path: string): () => Promise<RunView> {
  const { client, write, tty } = options
  let drawn = 0
  const printed = new Set<string>()
  return async () => {
    const run = await client.get<RunView>(path)
    const { steps } = await client.get<{ steps: StepView[] }>(`${path}/steps?limit=1000`)
    const { logs } = await client.get<{ logs: LogView[] }>(`${path}/logs?limit=1000`)
    const notices = [...logs]
      .reverse()
      .filter((log) => log.level === 'warn' || log.level === 'error')
      .map(
        (log) =>
          `${log.level.toUpperCase()} ${log.entityType}${log.entityId ? ` ${log.entityId}` : ''}: ${log.message}`,
      )
    const picture = progress(run, steps, tty)
    if (tty) {
      const frame = [...picture, ...notices.slice(-5).map((line) => `  ${line}`)]
      write(`${drawn > 0 ? `\x1b[${drawn}A\x1b[J` : ''}${frame.join('\n')}\n`)
      drawn = frame.length
    } else {
      for (const line of [...picture, ...notices]) {
        if (printed.has(line)) continue
        printed.add(line)
        write(`${time(Date.now())} ${line.trim()}\n`)
      }
    }
    return run
  }
}

/** The run's picture, one line per stage and per failure. Piped, lines carry no clock. */
export function progress(run: RunView, steps: StepView[], tty: boolean): string[] {
  const clock = tty ? `  ${elapsed(run.startedAt ?? run.createdAt, run.completedAt)}` : ''
  const lines = [`run ${run.id} ${run.flowName}: ${run.status}${clock}`]
  for (const stage of run.stages ?? []) {
    const own = steps.filter((step) => step.stage === stage.name)
    const done = own.filter((step) => step.status === 'completed').length
    const running = own.filter((step) => step.status === 'running').map((step) => step.id)
    const final = stage.final ? ' (final)' : ''
    const busy = running.length > 0 ? `  running: ${listed(running)}` : ''
    lines.push(`  ${symbol(stage.status)} ${stage.name}${final} ${done}/${own.length}${busy}`)
    for (const step of own.filter((step) => step.status === 'failed')) lines.push(...failure(step))
  }
  return lines
}

function failure(step: StepView): string[] {
  const error = step.error as { reason?: string; failedStep?: string } | null
  if (error?.reason === 'dependency_failed')
    return [`      ✗ ${step.id}: not run, ${error.failedStep ?? 'a dependency'} failed`]
  const reason = step.terminationReason === 'exit_code' ? null : step.terminationReason
  const why =
    step.exitCode !== null
      ? `exit ${step.exitCode}${reason === null ? '' : ` (${reason})`}`
      : (reason ?? error?.reason ?? 'failed')
  const tries = step.maxRetries > 0 ? ` after ${step.attempt} attempt(s)` : ''
  return [
    `      ✗ ${step.id}: ${why}${tries}`,
    ...lastLines(step.stderr, 3).map((line) => `          ${line}`),
  ]
}

function listed(ids: string[]): string {
  return ids.length <= 5 ? ids.join(', ') : `${ids.slice(0, 5).join(', ')} and ${ids.length - 5} more`
}
