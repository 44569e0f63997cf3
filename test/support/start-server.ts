// A real MaxQ server for end-to-end tests: `node dist/wrangler-free-local/main.js` (or another
// entry such as `bin/maxq.js serve`) as a child process on a free loopback port, ready once
// `GET /health` answers 200. The build must be fresh: `npm test` builds first (pretest).

import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { waitFor } from './wait-for.js'

/** The checkout's root (this file is test/support/start-server.ts). */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

export interface StartServerOptions {
  flowsRoot: string
  /** MAXQ_SQLITE_PATH or MAXQ_DATABASE_URL, from test/support/dialects.ts. */
  databaseEnv: Record<string, string>
  /** More environment for the server (and so for the scripts it spawns). */
  env?: Record<string, string>
  /**
   * MAXQ_PORT. By default a free port is chosen here; 0 lets the server pick, and the port is
   * then read from its `listening on http://HOST:PORT` line.
   */
  port?: number
  /** Arguments to `node`, relative to the checkout; the local all-in-one runner by default. */
  args?: string[]
  startTimeoutMs?: number
}

export interface RunningServer {
  /** e.g. http://127.0.0.1:41234 */
  baseUrl: string
  /** baseUrl + /api/v1: what scripts get as MAXQ_API. */
  apiBase: string
  /** The complete environment the server was started with, for sibling processes (`maxq tick`). */
  env: Record<string, string>
  /** The server process, for tests that kill it (test/faults/). */
  pid: number
  stop(): Promise<void>
  /** Everything the server wrote to stdout and stderr so far. */
  logs(): string
}

/**
 * A port that was free a moment ago. MAXQ_PORT=0 would listen on a random port, but scripts get
 * MAXQ_API from the configured port (cli/config.ts), so the port is chosen here and passed in.
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** The MaxQ variables test servers inherit (CI runs e2e once more with MAXQ_SPAWNER=child_process). */
const PASSED_ON = new Set(['MAXQ_SPAWNER'])

/**
 * process.env without MaxQ's own variables, so a developer's shell cannot leak into a test server;
 * except MAXQ_SPAWNER, so `MAXQ_SPAWNER=child_process npm test` tests that spawner end to end.
 */
export function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && (!key.startsWith('MAXQ_') || PASSED_ON.has(key))) env[key] = value
  }
  return env
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

const LISTENING = /listening on http:\/\/[^\s:]+:(\d+)/

export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const port = options.port ?? (await freePort())
  const env: Record<string, string> = {
    ...cleanEnv(),
    MAXQ_HOST: '127.0.0.1',
    MAXQ_PORT: String(port),
    MAXQ_FLOWS_ROOT: options.flowsRoot,
    ...options.databaseEnv,
    ...options.env,
  }
  const args = options.args ?? ['dist/wrangler-free-local/main.js']
  const child = spawn(process.execPath, args, { cwd: PACKAGE_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  let baseUrl = `http://127.0.0.1:${port}`

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const done = exited(child)
    child.kill('SIGTERM')
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    await done
    clearTimeout(killer)
  }

  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output}`)
        if (port === 0) {
          const bound = LISTENING.exec(output)?.[1]
          if (bound === undefined) return false
          baseUrl = `http://127.0.0.1:${bound}`
        }
        const res = await fetch(`${baseUrl}/health`)
        return res.ok
      },
      {
        timeoutMs: options.startTimeoutMs ?? 30_000,
        intervalMs: 50,
        message: `server on ${baseUrl} did not become healthy`,
      },
    )
  } catch (error) {
    await stop()
    throw new Error(
      `${error instanceof Error ? error.message : String(error)}\n--- server output ---\n${output}`,
    )
  }
  return { baseUrl, apiBase: `${baseUrl}/api/v1`, env, pid: child.pid ?? 0, stop, logs: () => output }
}
