// The floor: the same step scripts with no orchestrator, against the floor server. Back to back
// for a chain, `xargs -P <cores>` for a fan-out. Its figures are what any orchestrator pays for
// bash + curl + one HTTP request; MaxQ's overhead is measured against them.

import { spawn } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { onCleanup } from './cleanup.js'
import { HttpClient } from './http.js'

export interface FloorServer {
  origin: string
  client: HttpClient
  pid: number
  stop(): Promise<void>
}

export function startFloorServer(root: string): Promise<FloorServer> {
  return startServerScript(join(root, 'dist/bench/support/floor-server.js'), [])
}

/** The floor of GET /runs/{run} with its run read from PostgreSQL (lookup-floor-server.ts). */
export function startLookupFloorServer(root: string, databaseUrl: string): Promise<FloorServer> {
  return startServerScript(join(root, 'dist/bench/support/lookup-floor-server.js'), [databaseUrl])
}

/** A Node server script that prints its port on stdout when it listens. */
async function startServerScript(script: string, args: string[]): Promise<FloorServer> {
  const child = spawn(process.execPath, [script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const port = await new Promise<number>((resolve, reject) => {
    let text = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8')
      if (text.includes('\n')) resolve(Number(text.trim()))
    })
    child.once('exit', (code) => reject(new Error(`bench: floor server exited with ${code}`)))
  })
  const origin = `http://127.0.0.1:${port}`
  const client = new HttpClient(origin, 64)
  const stop = async (): Promise<void> => {
    unregister()
    client.close()
    if (child.exitCode === null) {
      child.kill('SIGKILL')
      await new Promise((resolve) => child.once('exit', resolve))
    }
  }
  const unregister = onCleanup(stop)
  return { origin, client, pid: child.pid ?? 0, stop }
}

/** Runs a bash snippet with the step's environment; answers its wall time in ms. */
function timeBash(script: string, env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn('bash', ['-c', script], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'inherit'],
    })
    child.once('error', reject)
    child.once('exit', (code) => {
      if (code === 0) resolve(performance.now() - started)
      else reject(new Error(`bench: floor script exited with ${code}`))
    })
  })
}

/** The first call of a one-stage flow: it posts stage.json, which lies next to it. */
const FIRST_FLOW_CALL = '(cd "$(dirname "$FLOW")" && MAXQ_COMPLETED_STAGE= "$FLOW" >/dev/null)'

/** What MaxQ runs for one hello run, as plain bash (no single quotes: it is nested in bash -c '…'). */
const HELLO_SEQUENCE =
  'MAXQ_COMPLETED_STAGE= "$FLOW" >/dev/null && MAXQ_STEP_ID=s1 "$STEP" && ' +
  'MAXQ_COMPLETED_STAGE=first "$FLOW" >/dev/null && MAXQ_STEP_ID=s2 "$STEP"'

export class Floor {
  readonly #step: string
  readonly #env: Record<string, string>
  readonly parallel = availableParallelism()

  constructor(server: FloorServer, stepPath: string) {
    this.#step = stepPath
    this.#env = { MAXQ_API: `${server.origin}/api/v1`, MAXQ_RUN_ID: 'floor', STEP: stepPath }
  }

  /**
   * The flow script once, as MaxQ first calls it (it posts the stage, from its own directory), then
   * n steps back to back: total ms. MaxQ's figure includes that call, so the floor does too.
   */
  chain(flowScript: string, n: number): Promise<number> {
    return timeBash(`${FIRST_FLOW_CALL} && for i in $(seq ${n}); do MAXQ_STEP_ID=s$i "$STEP"; done`, {
      ...this.#env,
      FLOW: flowScript,
    })
  }

  /**
   * The flow script once (see `chain`), then n steps, `parallel` at a time: total ms. `stepPath`
   * replaces the field-posting step (the no-op workload's floor runs its `exit 0` script).
   */
  fanout(flowScript: string, n: number, stepPath = this.#step): Promise<number> {
    return timeBash(
      `${FIRST_FLOW_CALL} && seq ${n} | xargs -P ${this.parallel} -I{} env MAXQ_STEP_ID=s{} "$STEP"`,
      { ...this.#env, FLOW: flowScript, STEP: stepPath },
    )
  }

  /**
   * n stages as MaxQ would run them without MaxQ: per stage, the flow script (called with the
   * stage before it, posting the next stage to the floor server) and then the step: total ms.
   */
  stages(flowScript: string, n: number): Promise<number> {
    return timeBash(
      `for k in $(seq ${n}); do
         prev=""; [ "$k" -gt 1 ] && prev="st$((k - 1))"
         MAXQ_COMPLETED_STAGE="$prev" "$FLOW" >/dev/null
         MAXQ_STEP_ID=s$k "$STEP"
       done`,
      { ...this.#env, FLOW: flowScript },
    )
  }

  /**
   * One hello run without MaxQ: the flow script as first called, the first step, the flow script
   * after stage `first`, the second step, back to back: total ms.
   */
  hello(flowScript: string): Promise<number> {
    return timeBash(HELLO_SEQUENCE, { ...this.#env, FLOW: flowScript })
  }

  /** `runs` hello sequences (see `hello`), `parallel` at a time: total ms. */
  runs(flowScript: string, runs: number): Promise<number> {
    return timeBash(`seq ${runs} | xargs -P ${this.parallel} -I{} bash -c '${HELLO_SEQUENCE}'`, {
      ...this.#env,
      FLOW: flowScript,
    })
  }

  get stepPath(): string {
    return this.#step
  }
}
