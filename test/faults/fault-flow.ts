// The flow the fault suite and the soak run, the markers its scripts leave, and the checks made on
// them. Nothing here imports vitest: the soak (test/soak/main.ts) runs it under plain node.
//
// The `faults` flow does what its run's input says: `input.calls[key]` (key `start`,
// `completed:<stage>` or `failed:<stage>`) lists the stages that call schedules, then how long it
// keeps running (`sleepAfter`) and its exit code; with `holdFirst` it first waits (at most 60 s)
// for release-flow in the run's marker directory. Its steps behave as their `env` says (STEP_SCRIPT).
// Every script calls the API through the helper library (`. "$MAXQ_LIB"`), which retries through an
// API restart, and appends one line per event to $FAULTS_OUT/<run>/events or .../flow-events:
//
//   <ns> start <step> <pid> <pids of earlier attempts still alive, comma-separated>
//   <ns> posted <step> <field name>     after the API accepted the field
//   <ns> end <step> <pid>               the script is about to exit on its own
//   <ns> flow-start <key> <pid> <pids of earlier calls with this key still alive, comma-separated>
//   <ns> flow-exit <key> <pid> <exit code>

import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { writeFlow } from '../support/temp-flows.js'

export const FAULT_FLOW = 'faults'

/**
 * The bash that starts a flow's or a step's script: `now`, and `overlap` set to the pids recorded
 * in `pidsFile` by earlier attempts that are still alive, before this one's pid is added to it.
 * Alive means present and not a zombie (an orphan's zombie is dead, only not yet reaped).
 */
function markStart(pidsFile: string): string {
  return `now() { date +%s%N; }
alive() {
  local state
  state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}
pids=${pidsFile}
overlap=""
if [ -f "$pids" ]; then
  while read -r pid; do
    if [ "$pid" != "$$" ] && alive "$pid"; then overlap="$overlap,$pid"; fi
  done <"$pids"
fi
echo "$$" >>"$pids"`
}

const FLOW_SCRIPT = `#!/usr/bin/env bash
set -euo pipefail
. "$MAXQ_LIB"
out="$FAULTS_OUT/$MAXQ_RUN_ID"
mkdir -p "$out"
if [ -n "\${MAXQ_FAILED_STAGE:-}" ]; then key="failed:$MAXQ_FAILED_STAGE"
elif [ -z "\${MAXQ_COMPLETED_STAGE:-}" ]; then key=start
else key="completed:$MAXQ_COMPLETED_STAGE"; fi
${markStart('"$out/flow-pids-$key"')}
echo "$(now) flow-start $key $$ \${overlap#,}" >>"$out/flow-events"
# The exit line is what the flow-call record is checked against; a TERM still writes it (143).
trap 'rc=$?; echo "$(now) flow-exit $key $$ $rc" >>"$out/flow-events"' EXIT
trap 'exit 143' TERM
call=$(maxq_input '.calls' | jq -c --arg key "$key" '.[$key] // {}')
if [ "$(jq -r '.holdFirst // false' <<<"$call")" = true ]; then
  touch "$out/holding-flow-$key"
  for _ in $(seq 1 600); do
    if [ -e "$out/release-flow" ]; then break; fi
    sleep 0.1
  done
fi
while read -r body; do
  maxq_schedule "$(jq -r .stage <<<"$body")" "$(jq -c .final <<<"$body")" "$(jq -c .steps <<<"$body")" >/dev/null
done < <(jq -c '.post // [] | .[]' <<<"$call")
sleep_after=$(jq -r '.sleepAfter // 0' <<<"$call")
if [ "$sleep_after" != 0 ]; then
  sleep "$sleep_after" &
  echo $! >>"$pids"
  wait $!
fi
echo "flow call $key done"
exit "$(jq -r '.exit // 0' <<<"$call")"
`

/**
 * A step of the `faults` flow. Its env decides what it does, in this order:
 *   BG_CHILD=1     leave a \`sleep 300\` behind (its pid in bg-<step>-<pid>), never waited for
 *   IGNORE_TERM=1  ignore SIGTERM (its children inherit that), so only SIGKILL ends it
 *   HOLD=1         wait (at most 60 s) for release-<step> or release in the run's directory, or
 *                  release in $FAULTS_OUT
 *   SLEEP=<s>      \`sleep <s>\` in the background, waited for
 *   POST_AFTER=1   post a second field after that
 *   EXIT=<n>       exit code (default 0)
 * It always posts one field named after its pid first. Every pid it starts is appended to
 * pids-<step>, which the next attempt reads to tell whether an earlier one is still alive.
 */
const STEP_SCRIPT = `#!/usr/bin/env bash
set -euo pipefail
. "$MAXQ_LIB"
out="$FAULTS_OUT/$MAXQ_RUN_ID"
mkdir -p "$out"
${markStart('"$out/pids-$MAXQ_STEP_ID"')}
echo "$(now) start $MAXQ_STEP_ID $$ \${overlap#,}" >>"$out/events"
maxq_post_fields "{\\"p$$\\": \\"$MAXQ_STEP_ID\\"}"
echo "$(now) posted $MAXQ_STEP_ID p$$" >>"$out/events"
if [ -n "\${BG_CHILD:-}" ]; then
  sleep 300 &
  echo $! >>"$pids"
  echo $! >"$out/bg-$MAXQ_STEP_ID-$$"
fi
if [ -n "\${IGNORE_TERM:-}" ]; then trap '' TERM; fi
if [ -n "\${HOLD:-}" ]; then
  touch "$out/holding-$MAXQ_STEP_ID"
  for _ in $(seq 1 600); do
    if [ -e "$out/release-$MAXQ_STEP_ID" ] || [ -e "$out/release" ] || [ -e "$FAULTS_OUT/release" ]; then break; fi
    sleep 0.1
  done
fi
if [ -n "\${SLEEP:-}" ]; then
  sleep "$SLEEP" &
  echo $! >>"$pids"
  wait $!
fi
if [ -n "\${POST_AFTER:-}" ]; then
  maxq_post_fields "{\\"q$$\\": \\"$MAXQ_STEP_ID\\"}"
  echo "$(now) posted $MAXQ_STEP_ID q$$" >>"$out/events"
fi
echo "$(now) end $MAXQ_STEP_ID $$" >>"$out/events"
exit "\${EXIT:-0}"
`

/** Writes FLOWS_ROOT/faults/flow.sh and its one step, `work`. */
export async function writeFaultFlow(flowsRoot: string): Promise<void> {
  await writeFlow(flowsRoot, FAULT_FLOW, { flow: FLOW_SCRIPT, steps: { work: STEP_SCRIPT } })
}

/** The environment every MaxQ process of a fault test needs so that scripts find FAULTS_OUT. */
export function faultEnv(outDir: string): Record<string, string> {
  return { FAULTS_OUT: outDir, MAXQ_PASSTHROUGH_ENV: 'FAULTS_OUT' }
}

// ---- run input ----

export interface StepSpec {
  id: string
  name: string
  dependsOn?: string[]
  maxRetries: number
  env?: Record<string, string>
  timeoutSeconds?: number
}

export interface StageSpec {
  stage: string
  final: boolean
  steps: StepSpec[]
}

export interface FlowCallSpec {
  holdFirst?: boolean
  post?: StageSpec[]
  sleepAfter?: number
  exit?: number
}

/** Keys: `start`, `completed:<stage>`, `failed:<stage>`. */
export type FlowCalls = Record<string, FlowCallSpec>

/** A step of the `faults` flow; every step of the suite has `maxRetries: 0`. */
export function work(
  id: string,
  options: { dependsOn?: string[]; env?: Record<string, string>; timeoutSeconds?: number } = {},
): StepSpec {
  return { id, name: 'work', maxRetries: 0, ...options }
}

export function stage(name: string, final: boolean, steps: StepSpec[]): StageSpec {
  return { stage: name, final, steps }
}

/** The flow calls of a run of `stages`, one after the other; the last one is final. */
export function chainOfStages(stages: StepSpec[][]): FlowCalls {
  const calls: FlowCalls = {}
  stages.forEach((steps, index) => {
    const key = index === 0 ? 'start' : `completed:s${index - 1}`
    calls[key] = { post: [stage(`s${index}`, index === stages.length - 1, steps)] }
  })
  return calls
}

// ---- the API ----

export interface RunView {
  id: string
  status: string
  error: unknown
  terminationReason: string | null
}

export interface AttemptView {
  attempt?: number
  exitCode?: number | null
  terminationReason?: string | null
  [key: string]: unknown
}

export interface StepView {
  id: string
  stage: string
  status: string
  attempt: number
  retryCount: number
  exitCode: number | null
  error: unknown
  terminationReason: string | null
  fields: Record<string, unknown>
  /** Every attempt (issue 17); absent before that lands. */
  attempts?: AttemptView[]
}

export interface FlowCallView {
  id: number
  completedStage: string | null
  failedStage: string | null
  status: string
  attempt: number
  exitCode: number | null
  [key: string]: unknown
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    what: string,
  ) {
    super(`${what}: ${status} ${JSON.stringify(body).slice(0, 500)}`)
  }
}

/** A small JSON client of one MaxQ API; the address stays valid across restarts on one port. */
export class MaxqClient {
  constructor(readonly apiBase: string) {}

  async request(method: string, urlPath: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const init: RequestInit = { method, signal: AbortSignal.timeout(15_000) }
    if (body !== undefined) {
      init.body = JSON.stringify(body)
      init.headers = { 'Content-Type': 'application/json' }
    }
    const res = await fetch(`${this.apiBase}${urlPath}`, init)
    const text = await res.text()
    let parsed: unknown = text
    try {
      parsed = JSON.parse(text)
    } catch {
      // kept as text
    }
    return { status: res.status, body: parsed }
  }

  async json<T>(method: string, urlPath: string, status: number, body?: unknown): Promise<T> {
    const answer = await this.request(method, urlPath, body)
    if (answer.status !== status) throw new ApiError(answer.status, answer.body, `${method} ${urlPath}`)
    return answer.body as T
  }

  async trigger(calls: FlowCalls): Promise<string> {
    return (await this.json<RunView>('POST', `/flows/${FAULT_FLOW}/runs`, 201, { input: { calls } })).id
  }

  getRun(runId: string): Promise<RunView> {
    return this.json<RunView>('GET', `/runs/${runId}`, 200)
  }

  async getSteps(runId: string): Promise<StepView[]> {
    return (await this.json<{ steps: StepView[] }>('GET', `/runs/${runId}/steps`, 200)).steps
  }

  getStep(runId: string, stepId: string): Promise<StepView> {
    return this.json<StepView>('GET', `/runs/${runId}/steps/${stepId}`, 200)
  }

  async fields(runId: string): Promise<Map<string, Record<string, unknown>>> {
    const answer = await this.json<{ fields: { stepId: string; fields: Record<string, unknown> }[] }>(
      'GET',
      `/runs/${runId}/fields`,
      200,
    )
    return new Map(answer.fields.map((row) => [row.stepId, row.fields]))
  }

  async flowCalls(runId: string): Promise<FlowCallView[]> {
    return (await this.json<{ flowCalls: FlowCallView[] }>('GET', `/runs/${runId}/flow-calls`, 200)).flowCalls
  }
}

// ---- what the scripts recorded ----

export interface StepAttempt {
  stepId: string
  pid: number
  startNs: bigint
  endNs: bigint | null
  /** Pids of earlier attempts of the step (scripts or their children) alive when this one started. */
  aliveAtStart: number[]
}

export interface FlowAttempt {
  key: string
  pid: number
  /** Pids of earlier calls with this key (or their children) alive when this one started. */
  aliveAtStart: number[]
  startNs: bigint
  endNs: bigint | null
  exitCode: number | null
}

export interface Markers {
  attempts: StepAttempt[]
  /** Field names each step posted and the API accepted: step id → names. */
  posted: Map<string, string[]>
  flow: FlowAttempt[]
}

function lines(file: string): string[][] {
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => line.split(' '))
}

export function readMarkers(outDir: string, runId: string): Markers {
  const dir = path.join(outDir, runId)
  const attempts: StepAttempt[] = []
  const posted = new Map<string, string[]>()
  for (const [at = '0', kind, stepId = '', third = '', fourth = ''] of lines(path.join(dir, 'events'))) {
    if (kind === 'start') {
      attempts.push({
        stepId,
        pid: Number(third),
        startNs: BigInt(at),
        endNs: null,
        aliveAtStart: fourth === '' ? [] : fourth.split(',').map(Number),
      })
    } else if (kind === 'end') {
      const attempt = attempts.find((a) => a.stepId === stepId && a.pid === Number(third))
      if (attempt) attempt.endNs = BigInt(at)
    } else if (kind === 'posted') {
      posted.set(stepId, [...(posted.get(stepId) ?? []), third])
    }
  }
  const flow: FlowAttempt[] = []
  for (const [at = '0', kind, key = '', pid = '', fourth = ''] of lines(path.join(dir, 'flow-events'))) {
    if (kind === 'flow-start') {
      const aliveAtStart = fourth === '' ? [] : fourth.split(',').map(Number)
      flow.push({ key, pid: Number(pid), aliveAtStart, startNs: BigInt(at), endNs: null, exitCode: null })
    } else if (kind === 'flow-exit') {
      const attempt = flow.find((a) => a.key === key && a.pid === Number(pid))
      if (attempt) {
        attempt.endNs = BigInt(at)
        attempt.exitCode = Number(fourth)
      }
    }
  }
  attempts.sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0))
  flow.sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0))
  return { attempts, posted, flow }
}

/** The run ids that have a marker directory. */
export function markedRuns(outDir: string): string[] {
  return existsSync(outDir)
    ? readdirSync(outDir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name)
    : []
}

/** The key a flow-call record answers to, as the flow script computes it. */
export function flowCallKey(call: Pick<FlowCallView, 'completedStage' | 'failedStage'>): string {
  if (call.failedStage !== null) return `failed:${call.failedStage}`
  return call.completedStage === null ? 'start' : `completed:${call.completedStage}`
}

// ---- checks (each answers the problems it found, empty when all is well) ----

/**
 * No attempt of a step (or call of the flow with one key) started while an earlier one, or a child
 * of it, was alive or unfinished.
 */
export function overlapProblems(markers: Markers): string[] {
  const problems: string[] = []
  const groups = new Map<string, (StepAttempt | FlowAttempt)[]>()
  for (const attempt of markers.attempts) {
    const what = `step ${attempt.stepId}`
    groups.set(what, [...(groups.get(what) ?? []), attempt])
  }
  for (const attempt of markers.flow) {
    const what = `flow call ${attempt.key}`
    groups.set(what, [...(groups.get(what) ?? []), attempt])
  }
  for (const [what, attempts] of groups) {
    attempts.forEach((attempt, index) => {
      if (attempt.aliveAtStart.length > 0) {
        problems.push(
          `${what}: attempt pid ${attempt.pid} started while earlier pid(s) ${attempt.aliveAtStart.join(',')} were alive`,
        )
      }
      for (const earlier of attempts.slice(0, index)) {
        if (earlier.endNs !== null && earlier.endNs > attempt.startNs) {
          problems.push(`${what}: attempt pid ${attempt.pid} started before pid ${earlier.pid} ended`)
        }
      }
    })
  }
  return problems
}

/** Every field a script posted (and the API accepted) is on the step. */
export async function lostFieldProblems(
  client: MaxqClient,
  runId: string,
  markers: Markers,
): Promise<string[]> {
  const fields = await client.fields(runId)
  const problems: string[] = []
  for (const [stepId, names] of markers.posted) {
    const have = fields.get(stepId) ?? {}
    for (const name of names) {
      if (!(name in have)) problems.push(`step ${stepId}: field ${name} was posted and is gone`)
    }
  }
  return problems
}

/**
 * Each flow-call record says what its script did: a completed record follows a script that exited
 * 0, a record with an exit code matches the last exit its script wrote, and none is `failed` without
 * its script having failed.
 */
export function flowCallProblems(calls: FlowCallView[], markers: Markers): string[] {
  const problems: string[] = []
  for (const call of calls) {
    const key = flowCallKey(call)
    const runs = markers.flow.filter((attempt) => attempt.key === key)
    const last = runs[runs.length - 1]
    if (call.status === 'completed' || call.status === 'failed') {
      if (last === undefined) {
        problems.push(`flow call ${key} is ${call.status} but its script never ran`)
      } else if (call.exitCode !== null && last.exitCode !== call.exitCode) {
        problems.push(
          `flow call ${key} recorded exit ${call.exitCode}, its script exited ${String(last.exitCode)}`,
        )
      } else if (call.status === 'completed' && last.exitCode !== 0) {
        problems.push(`flow call ${key} is completed, its script exited ${String(last.exitCode)}`)
      } else if (call.status === 'failed' && last.exitCode === 0) {
        problems.push(`flow call ${key} is failed (exit ${String(call.exitCode)}), its script exited 0`)
      }
    }
  }
  return problems
}

/**
 * The whole consistency check of one finished run: completed, every step completed, no overlap,
 * no field lost, flow-call records true to their scripts.
 */
export async function runProblems(client: MaxqClient, outDir: string, runId: string): Promise<string[]> {
  const run = await client.getRun(runId)
  const problems: string[] = []
  if (run.status !== 'completed') {
    problems.push(
      `run is ${run.status}: ${JSON.stringify({ error: run.error, reason: run.terminationReason })}`,
    )
  }
  for (const step of await client.getSteps(runId)) {
    if (step.status !== 'completed') {
      problems.push(`step ${step.id} is ${step.status}: ${JSON.stringify(step.error)}`)
    }
  }
  const markers = readMarkers(outDir, runId)
  problems.push(...overlapProblems(markers))
  problems.push(...(await lostFieldProblems(client, runId, markers)))
  // A flow call may still be running when its run completes: its record is read first, the
  // markers after it, since a script writes its exit marker before its end can be recorded.
  const calls = await client.flowCalls(runId)
  problems.push(...flowCallProblems(calls, readMarkers(outDir, runId)))
  return problems.map((problem) => `run ${runId}: ${problem}`)
}

// ---- processes ----

/** True while `pid` is a live process (a zombie counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

/**
 * Pids the scripts of these runs recorded (themselves and the children they started); with
 * `stepsOnly`, only the steps' (not the flow calls').
 */
export function recordedPids(
  outDir: string,
  runIds: string[] = markedRuns(outDir),
  { stepsOnly = false }: { stepsOnly?: boolean } = {},
): number[] {
  const pids = new Set<number>()
  const files = stepsOnly ? /^(pids-|bg-)/ : /^(pids-|bg-|flow-pids-)/
  for (const runId of runIds) {
    const dir = path.join(outDir, runId)
    if (!existsSync(dir)) continue
    for (const name of readdirSync(dir)) {
      if (!files.test(name)) continue
      for (const line of readFileSync(path.join(dir, name), 'utf8').split('\n')) {
        if (/^\d+$/.test(line.trim())) pids.add(Number(line.trim()))
      }
    }
    if (!stepsOnly) for (const attempt of readMarkers(outDir, runId).flow) pids.add(attempt.pid)
  }
  return [...pids]
}

/**
 * After a test: SIGKILL whatever its scripts left running (an orphan of a killed worker, when the
 * behaviour under test did not end it). Only pids the scripts recorded, and only while they still
 * run one of our scripts or a sleep, so a recycled pid is left alone.
 */
export function killLeftovers(outDir: string): number {
  let killed = 0
  for (const pid of recordedPids(outDir)) {
    if (!isAlive(pid)) continue
    let command = ''
    try {
      command = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    } catch {
      continue
    }
    if (!/sleep|step\.sh|flow\.sh/.test(command)) continue
    try {
      process.kill(pid, 'SIGKILL')
      killed++
    } catch {
      // gone meanwhile
    }
  }
  return killed
}
