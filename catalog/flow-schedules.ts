// A flow's optional flow.json, beside flow.sh, says when the flow starts on its own:
//
//   {"schedules": [{"cron": "0 3 * * *", "timezone": "Europe/Berlin", "input": {…},
//                   "overlap": "skip", "catchUp": "latest", "enabled": true}]}
//
// The cron has 5 fields, or 6 with seconds first; cron-parser checks and steps it. A flow.json that
// cannot be read or is invalid is a problem of the flow (shown by GET /flows), never a crash: the
// flow stays usable, it just has no schedules. Each file is parsed once per change (by mtime and
// size), so a tick can ask for every flow's schedules often at the cost of a few stat calls.

import { readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { CronExpressionParser } from 'cron-parser'
import * as v from 'valibot'
import { isSafeName } from './safe-name.js'

export type Overlap = 'skip' | 'allow'
export type CatchUp = 'latest' | 'none' | 'all'

export interface Schedule {
  /** Its position in flow.json's `schedules`: what the database keys its slots by. */
  index: number
  cron: string
  timezone: string | null
  input: unknown
  overlap: Overlap
  catchUp: CatchUp
  enabled: boolean
}

export interface FlowSchedules {
  flowName: string
  schedules: Schedule[]
  /** Why flow.json was not used (then `schedules` is empty); null when it is fine or absent. */
  problem: string | null
}

const isTimezone = (zone: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone })
    return true
  } catch {
    return false
  }
}

/** Null when the expression is a cron cron-parser accepts with 5 or 6 fields, else why not. */
export function cronProblem(cron: string): string | null {
  const fields = cron.trim().split(/\s+/).length
  if (fields !== 5 && fields !== 6) {
    return `${JSON.stringify(cron)} has ${fields} fields: use 5 (minute hour day month weekday) or 6 (seconds first)`
  }
  try {
    CronExpressionParser.parse(cron, { strict: false })
    return null
  } catch (error) {
    return `${JSON.stringify(cron)} is not a valid cron expression: ${(error as Error).message}`
  }
}

const ScheduleEntry = v.strictObject({
  cron: v.pipe(
    v.string('cron must be a string'),
    v.check(
      (cron) => cronProblem(cron) === null,
      (issue) => cronProblem(String(issue.input)) ?? '',
    ),
  ),
  timezone: v.optional(
    v.pipe(
      v.string('timezone must be a string'),
      v.check(isTimezone, (issue) => `${JSON.stringify(issue.input)} is not a known IANA time zone`),
    ),
  ),
  input: v.optional(v.unknown()),
  overlap: v.optional(v.picklist(['skip', 'allow'], 'overlap must be "skip" or "allow"'), 'skip'),
  catchUp: v.optional(
    v.picklist(['latest', 'none', 'all'], 'catchUp must be "latest", "none" or "all"'),
    'latest',
  ),
  enabled: v.optional(v.boolean('enabled must be true or false'), true),
})

const SCHEDULE_KEYS = Object.keys(ScheduleEntry.entries)

const FlowJson = v.strictObject({
  schedules: v.optional(v.array(ScheduleEntry, 'schedules must be a list'), []),
})

const TOP_KEYS = Object.keys(FlowJson.entries)

/** The schedules of flow.json's text, or the problem with it in one line. */
export function parseFlowJson(text: string): { schedules: Schedule[]; problem: string | null } {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    return { schedules: [], problem: `flow.json is not valid JSON: ${(error as Error).message}` }
  }
  const parsed = v.safeParse(FlowJson, json)
  if (!parsed.success) {
    const issues = parsed.issues.map((issue) => {
      const at = v.getDotPath(issue)
      if (issue.type === 'strict_object' && issue.expected === 'never') {
        const known = issue.path?.length === 1 ? TOP_KEYS : SCHEDULE_KEYS
        return `unknown key ${at}: the keys are ${known.join(', ')}`
      }
      return at ? `${at}: ${issue.message}` : issue.message
    })
    return { schedules: [], problem: `flow.json is invalid: ${issues.join('; ')}` }
  }
  const schedules = parsed.output.schedules.map((entry, index) => ({
    index,
    cron: entry.cron.trim(),
    timezone: entry.timezone ?? null,
    input: entry.input ?? null,
    overlap: entry.overlap,
    catchUp: entry.catchUp,
    enabled: entry.enabled,
  }))
  return { schedules, problem: null }
}

interface Cached {
  mtimeMs: number
  size: number
  parsed: { schedules: Schedule[]; problem: string | null }
}

/** Reads flow.json files, parsing each again only when its mtime or size changed. */
export class FlowSchedulesReader {
  readonly #root: string
  readonly #cache = new Map<string, Cached>()

  constructor(flowsRoot: string) {
    this.#root = path.resolve(flowsRoot)
  }

  /** One flow's schedules (empty without a flow.json). */
  async read(flowName: string): Promise<FlowSchedules> {
    if (!isSafeName(flowName)) return { flowName, schedules: [], problem: null }
    const file = path.join(this.#root, flowName, 'flow.json')
    const info = await stat(file).catch(() => null)
    if (info === null) {
      this.#cache.delete(flowName)
      return { flowName, schedules: [], problem: null }
    }
    const cached = this.#cache.get(flowName)
    if (cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size) {
      return { flowName, ...cached.parsed }
    }
    const parsed = info.isFile()
      ? await readFile(file, 'utf8').then(parseFlowJson, () => ({
          schedules: [],
          problem: 'flow.json cannot be read',
        }))
      : { schedules: [], problem: 'flow.json is not a regular file' }
    this.#cache.set(flowName, { mtimeMs: info.mtimeMs, size: info.size, parsed })
    return { flowName, ...parsed }
  }

  /** Every flow directory's flow.json that exists, valid or not, by flow name. */
  async readAll(): Promise<FlowSchedules[]> {
    const names = await readdir(this.#root).catch(() => [] as string[])
    const flows = await Promise.all(
      names.filter((name) => !name.startsWith('.') && isSafeName(name)).map((name) => this.read(name)),
    )
    return flows.filter((flow) => flow.schedules.length > 0 || flow.problem !== null)
  }
}
