// Starts a script as the leader of its own process group, so that everything it starts (pipelines,
// background jobs) can be signalled at once, and so that a Ctrl-C or SIGTERM aimed at the parent's
// group does not reach it. The script is executed directly: it is executable and has a shebang.

import { spawn, type ChildProcess } from 'node:child_process'
import type { Readable } from 'node:stream'

export interface SpawnOptions {
  command: string
  cwd: string
  env: Record<string, string>
}

export interface ScriptExit {
  /** Exit code; 127 (not found) or 126 (cannot execute) when the script could not be started. */
  code: number | null
  /** Name of the signal that ended the process, if one did. */
  signal: NodeJS.Signals | null
  /** Set when the process never started: a line for its stderr. */
  spawnError: string | null
}

export interface DetachedProcess {
  /** Pid, which is also the process group id; null when the spawn failed. */
  pid: number | null
  stdout: Readable | null
  stderr: Readable | null
  /** Resolves once, when the script itself exits (its pipes may still be open) or fails to start. */
  exited: Promise<ScriptExit>
  /** Resolves once the script has exited and its stdout and stderr are closed. */
  closed: Promise<void>
}

/** Never throws: a script that cannot be started resolves `exited` with code 127 or 126. */
export function spawnDetached(opts: SpawnOptions): DetachedProcess {
  let child: ChildProcess
  try {
    child = spawn(opts.command, [], {
      cwd: opts.cwd,
      env: opts.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
  } catch (error) {
    const exit = failedSpawn(opts, error)
    return { pid: null, stdout: null, stderr: null, exited: Promise.resolve(exit), closed: Promise.resolve() }
  }

  const exited = new Promise<ScriptExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, spawnError: null }))
    // A failed spawn emits 'error' (and 'close'), never 'exit'. An 'error' after a successful
    // spawn (a failed kill) says nothing about the exit, so it is ignored.
    child.on('error', (error) => {
      if (child.pid === undefined) resolve(failedSpawn(opts, error))
    })
  })
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()))
  return { pid: child.pid ?? null, stdout: child.stdout, stderr: child.stderr, exited, closed }
}

/**
 * Sends a signal to a whole process group; false when the group no longer exists.
 * Signal 0 only tests whether it exists.
 */
export function killGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, signal)
    return true
  } catch (error) {
    if (errorCode(error) === 'ESRCH') return false
    // EPERM: the group exists but is not ours to signal; nothing more can be done from here.
    return errorCode(error) === 'EPERM'
  }
}

function failedSpawn(opts: SpawnOptions, error: unknown): ScriptExit {
  const code = errorCode(error)
  const message = error instanceof Error ? error.message : String(error)
  return {
    code: code === 'ENOENT' ? 127 : 126,
    signal: null,
    spawnError: `maxq: cannot start ${opts.command} (cwd ${opts.cwd}): ${code ?? message}\n`,
  }
}

function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code
  }
  return undefined
}
