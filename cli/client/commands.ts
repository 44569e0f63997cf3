// The CLI's client subcommands: each is its help text, its options and what it does with the API.
// Read commands print tables for people and, with --json, the API's answer for scripts.

import { readFileSync } from 'node:fs'
import type { ParseArgsConfig } from 'node:util'
import { ClientError, type ApiClient } from './api-client.js'
import { duration, elapsed, lastLines, symbol, table, time, waitingText } from './format.js'
import { runErrorText } from './run-error.js'
import { follow } from './follow.js'
import type { FlowView, LogView, RunView, StepView } from './views.js'

export interface Io {
  out: (text: string) => void
  tty: boolean
}

type Options = NonNullable<ParseArgsConfig['options']>
export type Values = Record<string, string | boolean | undefined>

export interface ClientCommand {
  summary: string
  usage: string
  options: Options
  /** Answers the process exit code. */
  run(client: ApiClient, values: Values, args: string[], io: Io): Promise<number>
}

const JSON_OPTION = { json: { type: 'boolean' } } as const
const printJson = (io: Io, value: unknown): number => {
  io.out(`${JSON.stringify(value, null, 2)}\n`)
  return 0
}

function needRun(args: string[]): string {
  const runId = args[0]
  if (runId === undefined) throw new ClientError('a run id is needed (see `maxq runs`)')
  return runId
}

function jsonArgument(text: string | undefined, name: string): unknown {
  if (text === undefined) return undefined
  const source = text.startsWith('@') ? readFileSync(text.slice(1), 'utf8') : text
  try {
    return JSON.parse(source)
  } catch (error) {
    throw new ClientError(
      `${name} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    )
  }
}

const runPath = (runId: string) => `/runs/${encodeURIComponent(runId)}`

async function followRun(client: ApiClient, runId: string, io: Io): Promise<number> {
  const run = await follow({ client, runId, write: io.out, tty: io.tty })
  return run.status === 'completed' ? 0 : 1
}

const flows: ClientCommand = {
  summary: 'list the flows and their steps, and why one cannot run',
  usage: 'maxq flows [--json]',
  options: JSON_OPTION,
  async run(client, values, _args, io) {
    const answer = await client.get<{ flows: FlowView[] }>('/flows')
    if (values.json) return printJson(io, answer)
    io.out(
      table(
        ['FLOW', 'STEPS', 'PROBLEMS'],
        answer.flows.map((flow) => [
          flow.name,
          flow.steps.join(', ') || '-',
          [
            ...(flow.problem ? [flow.problem.reason] : []),
            ...(flow.problems ?? []).map((p) => p.reason),
          ].join('; ') || '-',
        ]),
      ),
    )
    return 0
  },
}

const run: ClientCommand = {
  summary: 'start a run of a flow; --follow shows its progress until it ends',
  usage: 'maxq run <flow> [--input JSON|@file] [--metadata JSON|@file] [--follow] [--json]',
  options: {
    ...JSON_OPTION,
    input: { type: 'string' },
    metadata: { type: 'string' },
    follow: { type: 'boolean' },
  },
  async run(client, values, args, io) {
    const flow = args[0]
    if (flow === undefined) throw new ClientError('a flow name is needed (see `maxq flows`)')
    const body = {
      input: jsonArgument(values.input as string | undefined, '--input'),
      metadata: jsonArgument(values.metadata as string | undefined, '--metadata'),
    }
    const created = await client.send<RunView>('POST', `/flows/${encodeURIComponent(flow)}/runs`, body)
    if (values.json && !values.follow) return printJson(io, created)
    io.out(values.json ? `${JSON.stringify(created)}\n` : `started run ${created.id} of ${flow}\n`)
    return values.follow ? followRun(client, created.id, io) : 0
  },
}

const watch: ClientCommand = {
  summary: "follow a run's progress until it ends; exit 0 only if it completed",
  usage: 'maxq watch <run>',
  options: {},
  run: (client, _values, args, io) => followRun(client, needRun(args), io),
}

const runs: ClientCommand = {
  summary: 'list runs, newest first',
  usage: 'maxq runs [--flow NAME] [--status STATUS] [--limit N] [--json]',
  options: {
    ...JSON_OPTION,
    flow: { type: 'string' },
    status: { type: 'string' },
    limit: { type: 'string' },
  },
  async run(client, values, _args, io) {
    const query = new URLSearchParams()
    if (typeof values.flow === 'string') query.set('flowName', values.flow)
    if (typeof values.status === 'string') query.set('status', values.status)
    if (typeof values.limit === 'string') query.set('limit', values.limit)
    const search = query.size > 0 ? `?${query}` : ''
    const answer = await client.get<{ runs: RunView[]; pagination: { total: number } }>(`/runs${search}`)
    if (values.json) return printJson(io, answer)
    io.out(
      table(
        ['RUN', 'FLOW', 'STATUS', 'CREATED', 'DURATION'],
        answer.runs.map((r) => [
          r.id,
          r.flowName,
          r.status,
          time(r.createdAt),
          elapsed(r.startedAt, r.completedAt),
        ]),
      ),
    )
    if (answer.pagination.total > answer.runs.length)
      io.out(`(${answer.runs.length} of ${answer.pagination.total})\n`)
    return 0
  },
}

const show: ClientCommand = {
  summary: 'a run as a tree of stages and steps: status, attempts, exit code, duration, why it waits',
  usage: 'maxq show <run> [--json]',
  options: JSON_OPTION,
  async run(client, values, args, io) {
    const runId = needRun(args)
    const r = await client.get<RunView>(runPath(runId))
    const { steps } = await client.get<{ steps: StepView[] }>(`${runPath(runId)}/steps?limit=1000`)
    if (values.json) return printJson(io, { ...r, steps })
    const waits = waitingText(r.waitingFor)
    io.out(
      `run ${r.id}  ${r.flowName}  ${r.status}  ${elapsed(r.startedAt, r.completedAt)}${waits ? `  waiting: ${waits}` : ''}\n`,
    )
    if (r.error !== null) io.out(`error: ${runErrorText(r.error)}\n`)
    for (const stage of r.stages ?? []) {
      io.out(`${symbol(stage.status)} stage ${stage.name}${stage.final ? ' (final)' : ''}: ${stage.status}\n`)
      for (const step of steps.filter((s) => s.stage === stage.name)) {
        const exit = step.exitCode === null ? '' : `  exit ${step.exitCode}`
        const reason =
          step.terminationReason === null || step.terminationReason === 'exit_code'
            ? ''
            : `  ${step.terminationReason}`
        const tries = `  attempt ${step.attempt}/${step.maxRetries + 1}`
        const waiting = waitingText(step.waitingFor)
        io.out(
          `    ${symbol(step.status)} ${step.id} (${step.name})  ${step.status}${tries}${exit}${reason}` +
            `  ${duration(step.startedAt === null ? null : (step.completedAt ?? Date.now()) - step.startedAt)}` +
            `${waiting ? `  waiting: ${waiting}` : ''}\n`,
        )
        if (step.status === 'failed')
          for (const line of lastLines(step.stderr, 3)) io.out(`        ${line}\n`)
      }
    }
    return 0
  },
}

const logs: ClientCommand = {
  summary: "a run's log, or with --step a step's captured stdout and stderr",
  usage: 'maxq logs <run> [--step ID] [--follow] [--json]',
  options: { ...JSON_OPTION, step: { type: 'string' }, follow: { type: 'boolean' } },
  async run(client, values, args, io) {
    const runId = needRun(args)
    if (typeof values.step === 'string') {
      const step = await client.get<StepView>(`${runPath(runId)}/steps/${encodeURIComponent(values.step)}`)
      if (values.json) return printJson(io, { stdout: step.stdout, stderr: step.stderr })
      io.out(
        `--- stdout of ${step.id}\n${step.stdout ?? ''}${(step.stdout ?? '').endsWith('\n') ? '' : '\n'}`,
      )
      io.out(
        `--- stderr of ${step.id}\n${step.stderr ?? ''}${(step.stderr ?? '').endsWith('\n') ? '' : '\n'}`,
      )
      return 0
    }
    const seen = new Set<string>()
    for (;;) {
      const answer = await client.get<{ logs: LogView[] }>(`${runPath(runId)}/logs?limit=1000`)
      const fresh = [...answer.logs].reverse().filter((log) => !seen.has(log.id))
      for (const log of fresh) {
        seen.add(log.id)
        const who = log.entityId === null ? log.entityType : `${log.entityType} ${log.entityId}`
        io.out(
          values.json
            ? `${JSON.stringify(log)}\n`
            : `${time(log.createdAt)} ${log.level.toUpperCase().padEnd(5)} ${who}: ${log.message}\n`,
        )
      }
      if (!values.follow) return 0
      const { status } = await client.get<RunView>(runPath(runId))
      if (status === 'completed' || status === 'failed') return 0
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
  },
}

function control(action: 'abort' | 'retry' | 'pause' | 'resume', summary: string): ClientCommand {
  return {
    summary,
    usage: `maxq ${action} <run> [--json]`,
    options: JSON_OPTION,
    async run(client, values, args, io) {
      const runId = needRun(args)
      const answer = await client.send<Record<string, unknown>>('POST', `${runPath(runId)}/${action}`)
      if (values.json) return printJson(io, answer)
      const message = typeof answer.message === 'string' ? answer.message : `${action}: done`
      const status =
        typeof answer.status === 'string'
          ? answer.status
          : typeof answer.run === 'object' && answer.run !== null && 'status' in answer.run
            ? String(answer.run.status)
            : null
      io.out(`${runId}: ${message}${status === null ? '' : ` (now ${status})`}\n`)
      return 0
    },
  }
}

const DURATION_UNITS_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** `30d`, `12h`, `90m`, `45s` → milliseconds; anything else is refused with what is accepted. */
export function parseDuration(text: string | undefined, name: string): number {
  if (text === undefined) {
    throw new ClientError(`${name} is required, e.g. maxq prune ${name} 30d --dry-run (units: s, m, h, d)`)
  }
  const match = /^(\d{1,9})([smhd])$/.exec(text)
  if (match === null) {
    throw new ClientError(`${name} must be a number and a unit, e.g. 30d, 12h, 90m or 45s (got ${text})`)
  }
  return Number(match[1]) * DURATION_UNITS_MS[match[2] as string]!
}

interface PruneAnswer {
  deleted: number
  runIds: string[]
  matched: number
  dryRun: boolean
  finishedBefore: number
}

/** Batches `maxq prune` asks for; the server allows at most 1000. */
const PRUNE_BATCH = 100

const prune: ClientCommand = {
  summary: 'delete finished runs older than a duration (POST /runs/prune, batch by batch)',
  usage: 'maxq prune --older-than 30d [--flow NAME] [--dry-run] [--json]',
  options: {
    'older-than': { type: 'string' },
    flow: { type: 'string' },
    'dry-run': { type: 'boolean' },
    ...JSON_OPTION,
  },
  async run(client, values, _args, io) {
    const olderThanMs = parseDuration(values['older-than'] as string | undefined, '--older-than')
    const flowName = typeof values.flow === 'string' ? values.flow : undefined
    const dryRun = values['dry-run'] === true
    // The cut-off is fixed by the first answer, so runs finishing meanwhile do not keep the loop going.
    let finishedBefore: number | undefined
    const runIds: string[] = []
    let matched = 0
    for (;;) {
      const answer = await client.send<PruneAnswer>('POST', '/runs/prune', {
        ...(finishedBefore === undefined ? { olderThanMs } : { finishedBefore }),
        ...(flowName === undefined ? {} : { flowName }),
        dryRun,
        limit: PRUNE_BATCH,
      })
      finishedBefore = answer.finishedBefore
      runIds.push(...answer.runIds)
      matched = answer.matched
      if (dryRun || answer.deleted < PRUNE_BATCH) break
      if (!values.json) io.out(`deleted ${runIds.length} run(s) so far\n`)
    }
    const before = new Date(finishedBefore).toISOString()
    if (values.json)
      return printJson(io, { dryRun, deleted: dryRun ? 0 : runIds.length, matched, runIds, finishedBefore })
    if (dryRun) {
      io.out(`would delete ${matched} finished run(s) that ended before ${before}\n`)
      for (const id of runIds) io.out(`  ${id}\n`)
      if (matched > runIds.length) io.out(`  … and ${matched - runIds.length} more\n`)
    } else {
      io.out(`deleted ${runIds.length} finished run(s) that ended before ${before}\n`)
    }
    return 0
  },
}

export const CLIENT_COMMANDS: Record<string, ClientCommand> = {
  flows,
  run,
  runs,
  show,
  logs,
  watch,
  abort: control('abort', 'stop a run: terminate its scripts, fail its open work'),
  retry: control('retry', 'run a failed run again from its unfinished work'),
  pause: control('pause', 'stop starting work for a run'),
  resume: control('resume', 'start work for a paused run again'),
  prune,
  // The original CLI's name for `run` without --follow.
  trigger: {
    ...run,
    usage: 'maxq trigger <flow> [--input JSON|@file] [--metadata JSON|@file] [--follow] [--json]',
    summary: 'the same as `maxq run` (kept for scripts)',
  },
}
