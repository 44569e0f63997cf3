// Starts a script with node:child_process: the fallback when the posix_spawn addon is not built.
// libuv forks the whole server to do it, which costs milliseconds of main-thread CPU per script.

import { spawn, type ChildProcess } from 'node:child_process'
import {
  failedToStart,
  startFailure,
  type DetachedProcess,
  type ScriptExit,
  type SpawnOptions,
} from './detached-process.js'

/** Never throws: a script that cannot be started resolves `exited` with code 127 or 126. */
export function spawnWithChildProcess(opts: SpawnOptions): DetachedProcess {
  let child: ChildProcess
  try {
    child = spawn(opts.command, [], {
      cwd: opts.cwd,
      env: opts.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
  } catch (error) {
    return failedToStart(opts, errnoName(error))
  }

  const exited = new Promise<ScriptExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, spawnError: null }))
    // A failed spawn emits 'error' (and 'close'), never 'exit'. An 'error' after a successful
    // spawn (a failed kill) says nothing about the exit, so it is ignored.
    child.on('error', (error) => {
      if (child.pid === undefined) resolve(startFailure(opts, errnoName(error)))
    })
  })
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()))
  return { pid: child.pid ?? null, stdout: child.stdout, stderr: child.stderr, exited, closed }
}

function errnoName(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code
  }
  return error instanceof Error ? error.message : String(error)
}
