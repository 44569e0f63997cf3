// `maxq tick --watch` as a separate OS process, for the tests of several tick processes on one
// PostgreSQL: started with the environment given, its output kept, stopped as an operator would.

import { spawn, type ChildProcess } from 'node:child_process'
import { PACKAGE_ROOT } from './start-server.js'

export interface TickProcess {
  child: ChildProcess
  pid: number
  /** Everything it wrote to stdout and stderr so far. */
  output: () => string
  exited: Promise<void>
}

export function startTick(env: Record<string, string>): TickProcess {
  const child = spawn(process.execPath, ['bin/maxq.js', 'tick', '--watch'], {
    cwd: PACKAGE_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited =
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => child.once('exit', () => resolve()))
  if (child.pid === undefined) throw new Error('could not start `maxq tick --watch`')
  return { child, pid: child.pid, output: () => output, exited }
}

/** SIGTERM (a clean stop hands running attempts back), SIGKILL if it is still there after 10 s. */
export async function stopTick(tick: TickProcess): Promise<void> {
  if (tick.child.exitCode !== null || tick.child.signalCode !== null) return
  tick.child.kill('SIGTERM')
  const killer = setTimeout(() => tick.child.kill('SIGKILL'), 10_000)
  await tick.exited
  clearTimeout(killer)
}
