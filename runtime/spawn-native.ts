// Starts a script through MaxQ's posix_spawn addon (runtime/native/spawn.c), so the server never
// forks: glibc's posix_spawn copies nothing of the server, and a start took 0.7 ms of CPU and 2.8 ms
// of wall time whatever the server's size (docs/performance.md). The main thread is suspended
// through that wall time, until the child has exec'd (vfork semantics).
// Exits are collected with waitpid(pid, WNOHANG) on SIGCHLD and on a one-second poll, for our own
// pids only (libuv waits for each of its own children by pid too, so the two never take each
// other's).

import { createRequire } from 'node:module'
import net from 'node:net'
import { constants } from 'node:os'
import path from 'node:path'
import {
  failedToStart,
  type DetachedProcess,
  type ScriptExit,
  type SpawnOptions,
} from './detached-process.js'
import { packageRoot } from './package-root.js'

interface Addon {
  /** [pid, stdout fd, stderr fd], or an errno number when the script could not be started. */
  spawn(command: string, cwd: string, env: string[]): [number, number, number] | number
  /**
   * null while the process runs; else [exit code, signal number], -1 for the one that does not
   * apply, or [-1, -1] when pid is not a child of ours to wait for (already reaped).
   */
  reap(pid: number): [number, number] | null
}

// A safety net only: SIGCHLD reports every exit. While a script runs this timer also keeps the
// event loop alive, as a child_process handle would.
const REAP_POLL_MS = 1_000

let addon: Addon | null | undefined
let loadError = ''
const waiting = new Map<number, (exit: ScriptExit) => void>()
let poll: NodeJS.Timeout | null = null
let listening = false

/** Null when the addon can be used; else why not (it was not built, or does not load here). */
export function nativeSpawnUnavailable(): string | null {
  return loadAddon() === null ? loadError : null
}

/**
 * Throws only when the addon does not load (resolveSpawner picks posix_spawn only when it does): a
 * script that cannot be started resolves `exited` with code 127 or 126.
 */
export function spawnNative(opts: SpawnOptions): DetachedProcess {
  const native = loadAddon()
  if (native === null) throw new Error(`maxq: posix_spawn addon unavailable: ${loadError}`)
  if (!listening) {
    // Before the first start, so that no exit can come before anyone listens for it.
    process.on('SIGCHLD', reapExited)
    listening = true
  }
  const env = Object.entries(opts.env).map(([name, value]) => `${name}=${value}`)
  const started = native.spawn(path.resolve(opts.cwd, opts.command), opts.cwd, env)
  if (typeof started === 'number') return failedToStart(opts, errnoName(started))

  const [pid, stdoutFd, stderrFd] = started
  const stdout = readEnd(stdoutFd)
  const stderr = readEnd(stderrFd)
  const exited = new Promise<ScriptExit>((resolve) => waiting.set(pid, resolve))
  poll ??= setInterval(reapExited, REAP_POLL_MS)
  const closed = Promise.all([exited, closedPromise(stdout), closedPromise(stderr)]).then(() => undefined)
  return { pid, stdout, stderr, exited, closed }
}

function reapExited(): void {
  if (addon == null) return
  for (const [pid, resolve] of waiting) {
    const status = addon.reap(pid)
    if (status === null) continue
    waiting.delete(pid)
    const [code, signal] = status
    resolve({ code: code >= 0 ? code : null, signal: signalName(signal), spawnError: null })
  }
  if (waiting.size === 0 && poll !== null) {
    clearInterval(poll)
    poll = null
  }
}

function readEnd(fd: number): net.Socket {
  const socket = new net.Socket({ fd, readable: true, writable: false })
  // A read error ends the capture early; the exit is still collected and reported.
  socket.on('error', () => undefined)
  return socket
}

function closedPromise(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => socket.once('close', () => resolve()))
}

function loadAddon(): Addon | null {
  if (addon !== undefined) return addon
  const file = path.join(packageRoot(), 'runtime', 'native', 'build', 'Release', 'maxq_spawn.node')
  try {
    addon = createRequire(import.meta.url)(file) as Addon
  } catch (error) {
    addon = null
    loadError = `cannot load ${file}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`
  }
  return addon
}

function errnoName(errno: number): string {
  const found = Object.entries(constants.errno).find(([, value]) => value === errno)
  return found?.[0] ?? `errno ${errno}`
}

function signalName(signal: number): NodeJS.Signals | null {
  if (signal < 0) return null
  const found = Object.entries(constants.signals).find(([, value]) => value === signal)
  return (found?.[0] as NodeJS.Signals | undefined) ?? null
}
