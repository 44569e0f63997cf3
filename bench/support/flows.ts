// Generates the benchmark's flows into a flows root. Every step is the same bash script that posts
// one small field with curl; flows post a stage definition written next to them (stage.json), so
// the flow itself is one curl too.

import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const STEP_SCRIPT = `#!/bin/bash
set -euo pipefail
curl -fsS -X POST "$MAXQ_API/runs/$MAXQ_RUN_ID/steps/$MAXQ_STEP_ID/fields" \\
  -H 'Content-Type: application/json' -d '{"fields":{"n":1}}' >/dev/null
`

interface StepDef {
  id: string
  name: string
  dependsOn: string[]
  maxRetries: number
}

function step(id: string, dependsOn: string[] = []): StepDef {
  return { id, name: 'post', dependsOn, maxRetries: 0 }
}

function writeExecutable(path: string, text: string): void {
  writeFileSync(path, text)
  chmodSync(path, 0o755)
}

const SCHEDULE = (payload: string): string =>
  `curl -fsS -X POST "$MAXQ_API/runs/$MAXQ_RUN_ID/steps" -H 'Content-Type: application/json' -d ${payload} >/dev/null`

/** A step that does nothing: what the no-op capacity workload runs, so MaxQ's own cost shows. */
export const NOOP_STEP_SCRIPT = '#!/bin/bash\nexit 0\n'

/** A step that waits one second: I/O-bound work, for the scale-out workload. */
export const SLEEP_STEP_SCRIPT = '#!/bin/bash\nsleep 1\n'

function writeFlow(
  root: string,
  name: string,
  flowScript: string,
  stage?: unknown,
  stepScript = STEP_SCRIPT,
): void {
  const dir = join(root, name)
  mkdirSync(join(dir, 'steps', 'post'), { recursive: true })
  writeExecutable(join(dir, 'flow.sh'), flowScript)
  writeExecutable(join(dir, 'steps', 'post', 'step.sh'), stepScript)
  if (stage !== undefined) writeFileSync(join(dir, 'stage.json'), JSON.stringify(stage))
}

/**
 * The stage's request, timed by curl itself: its total time in seconds is appended to
 * `schedule-seconds` next to the flow, so a workload can read how long the server took to answer it.
 */
const TIMED_SCHEDULE =
  `curl -fsS -o /dev/null -w '%{time_total}\\n' -X POST "$MAXQ_API/runs/$MAXQ_RUN_ID/steps" ` +
  `-H 'Content-Type: application/json' -d @stage.json >> schedule-seconds`

/** One stage scheduled on the first call (from the flow's directory), nothing afterwards. */
function oneStageFlow(root: string, name: string, steps: StepDef[], stepScript = STEP_SCRIPT): void {
  const script = `#!/bin/bash
set -euo pipefail
cd "$(dirname "$0")"
if [ -z "\${MAXQ_COMPLETED_STAGE:-}" ]; then
  ${TIMED_SCHEDULE}
fi
`
  writeFlow(root, name, script, { stage: 'only', final: true, steps }, stepScript)
}

export function chainFlowName(n: number): string {
  return `chain_${n}`
}
export function fanoutFlowName(n: number): string {
  return `fanout_${n}`
}
export function noopFlowName(n: number): string {
  return `noop_${n}`
}
export function sleepFlowName(n: number): string {
  return `sleep_${n}`
}
export function stagesFlowName(n: number): string {
  return `stages_${n}`
}
export const HELLO_FLOW = 'hello'

export function writeHelloFlow(root: string): void {
  const stage = (name: string, id: string, final: boolean): string =>
    `'${JSON.stringify({ stage: name, final, steps: [step(id)] })}'`
  const script = `#!/bin/bash
set -euo pipefail
if [ -z "\${MAXQ_COMPLETED_STAGE:-}" ]; then
  ${SCHEDULE(stage('first', 's1', false))}
elif [ "$MAXQ_COMPLETED_STAGE" = first ]; then
  ${SCHEDULE(stage('second', 's2', true))}
fi
`
  writeFlow(root, HELLO_FLOW, script)
}

export function writeChainFlow(root: string, n: number): void {
  const steps = Array.from({ length: n }, (_, i) => step(`s${i + 1}`, i === 0 ? [] : [`s${i}`]))
  oneStageFlow(root, chainFlowName(n), steps)
}

export function writeFanoutFlow(root: string, n: number): void {
  oneStageFlow(
    root,
    fanoutFlowName(n),
    Array.from({ length: n }, (_, i) => step(`s${i + 1}`)),
  )
}

/** n parallel steps that only `exit 0`. */
export function writeNoopFlow(root: string, n: number): void {
  oneStageFlow(
    root,
    noopFlowName(n),
    Array.from({ length: n }, (_, i) => step(`s${i + 1}`)),
    NOOP_STEP_SCRIPT,
  )
}

/** n parallel steps that each sleep one second. */
export function writeSleepFlow(root: string, n: number): void {
  oneStageFlow(
    root,
    sleepFlowName(n),
    Array.from({ length: n }, (_, i) => step(`s${i + 1}`)),
    SLEEP_STEP_SCRIPT,
  )
}

/** The seconds each stage request of the flow took, as curl measured them, in order. */
export function scheduleSeconds(root: string, flow: string): number[] {
  const path = join(root, flow, 'schedule-seconds')
  if (!existsSync(path)) return []
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map(Number)
}

/** Stage k (1-based) is scheduled by the callback that reports stage k-1; stage n is final. */
export function writeStagesFlow(root: string, n: number): void {
  const script = `#!/bin/bash
set -euo pipefail
done_stage="\${MAXQ_COMPLETED_STAGE:-}"
k=$(( \${done_stage#st} + 1 ))
[ "$k" -le ${n} ] || exit 0
final=false
[ "$k" -lt ${n} ] || final=true
${SCHEDULE(`"{\\"stage\\":\\"st$k\\",\\"final\\":$final,\\"steps\\":[{\\"id\\":\\"s$k\\",\\"name\\":\\"post\\",\\"dependsOn\\":[],\\"maxRetries\\":0}]}"`)}
`
  writeFlow(root, stagesFlowName(n), script)
}

/** The step script alone, for the floor: `<dir>/step.sh`. */
export function writeFloorStep(dir: string, script = STEP_SCRIPT, name = 'step.sh'): string {
  mkdirSync(dir, { recursive: true })
  const path = join(dir, name)
  writeExecutable(path, script)
  return path
}
