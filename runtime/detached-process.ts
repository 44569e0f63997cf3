// What starting a script returns, whichever way it was started (runtime/spawn-detached.ts picks).

import type { Readable } from 'node:stream'

export interface SpawnOptions {
  /** Absolute path of an executable script (it has a shebang). */
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

/** The end of a script that never started, with the exit code a shell would give. */
export function startFailure(opts: SpawnOptions, errno: string): ScriptExit {
  return {
    code: errno === 'ENOENT' ? 127 : 126,
    signal: null,
    spawnError: `maxq: cannot start ${opts.command} (cwd ${opts.cwd}): ${errno}\n`,
  }
}

export function failedToStart(opts: SpawnOptions, errno: string): DetachedProcess {
  const exited = Promise.resolve(startFailure(opts, errno))
  return { pid: null, stdout: null, stderr: null, exited, closed: Promise.resolve() }
}
