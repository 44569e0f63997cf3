// Generates the benchmark's flows into a flows root. Every step is the same bash script that posts
// one small field with curl; flows post a stage definition written next to them (stage.json), so
// the flow itself is one curl too.

import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
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

function writeFlow(root: string, name: string, flowScript: string, stage?: unknown): void {
  const dir = join(root, name)
  mkdirSync(join(dir, 'steps', 'post'), { recursive: true })
  writeExecutable(join(dir, 'flow.sh'), flowScript)
  writeExecutable(join(dir, 'steps', 'post', 'step.sh'), STEP_SCRIPT)
  if (stage !== undefined) writeFileSync(join(dir, 'stage.json'), JSON.stringify(stage))
}

/** One stage scheduled on the first call, nothing afterwards. */
function oneStageFlow(root: string, name: string, steps: StepDef[]): void {
  const script = `#!/bin/bash
set -euo pipefail
if [ -z "\${MAXQ_COMPLETED_STAGE:-}" ]; then
  ${SCHEDULE('@stage.json')}
fi
`
  writeFlow(root, name, script, { stage: 'only', final: true, steps })
}

export function chainFlowName(n: number): string {
  return `chain_${n}`
}
export function fanoutFlowName(n: number): string {
  return `fanout_${n}`
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
export function writeFloorStep(dir: string): string {
  mkdirSync(dir, { recursive: true })
  const path = join(dir, 'step.sh')
  writeExecutable(path, STEP_SCRIPT)
  return path
}
