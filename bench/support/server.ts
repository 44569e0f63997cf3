// Starts MaxQ the way a user does: `node dist/wrangler-free-local/main.js` with a fresh temp
// SQLite file (or a fresh database on the given PostgreSQL server), a free loopback port and the
// generated flows root; waits for /health. stop() ends the server and every process it started.

import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { onCleanup } from './cleanup.js'
import { descendants } from './proc.js'
import { HttpClient } from './http.js'

export interface ServerOptions {
  /** Package root: where dist/wrangler-free-local/main.js lives. */
  root: string
  flowsRoot: string
  /** PostgreSQL server to create a throwaway database on; SQLite in a temp dir when absent. */
  databaseUrl?: string
  /** Use this SQLite file instead of a fresh one (the growth workload seeds it first). */
  sqlitePath?: string
  /** Use this PostgreSQL database instead of a fresh one (seeded first); dropped at stop. */
  database?: ThrowawayDatabase
  /** Extra MAXQ_* settings from --env. */
  env: Record<string, string>
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[]
}

export interface RunningServer {
  pid: number
  port: number
  /** http://127.0.0.1:<port> */
  origin: string
  client: HttpClient
  /** Set on PostgreSQL: the URL of this server's own database. */
  databaseUrl: string | undefined
  stop(): Promise<void>
}

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

/** The environment minus MaxQ's own settings: only what the bench sets reaches the server. */
export function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('MAXQ_') && key !== 'LOG_LEVEL') env[key] = value
  }
  return env
}

let databaseCounter = 0

export interface ThrowawayDatabase {
  url: string
  drop: () => Promise<void>
}

/** A fresh, empty database on the given PostgreSQL server; drop() removes it. */
export async function createDatabase(url: string): Promise<ThrowawayDatabase> {
  const name = `maxq_bench_${process.pid}_${++databaseCounter}`
  const admin = postgres(url, { max: 1, onnotice: () => undefined })
  await admin.unsafe(`CREATE DATABASE ${name}`)
  await admin.end()
  const own = new URL(url)
  own.pathname = `/${name}`
  return {
    url: own.toString(),
    drop: async () => {
      const sql = postgres(url, { max: 1, onnotice: () => undefined })
      await sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await sql.end()
    },
  }
}

/** Resolves true once the child has exited, false if it is still there after `ms`. */
export function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true)
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve(true)
    })
  })
}

export function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal)
  } catch {
    // already gone
  }
}

/**
 * Ends a MaxQ process and everything it started: SIGTERM, SIGKILL after `graceMs`. Its scripts run
 * in their own process groups and are reparented when it exits, so they are listed while they are
 * still its descendants and killed with it, not left behind.
 */
export async function stopProcessTree(child: ChildProcess, graceMs: number): Promise<void> {
  const pid = child.pid
  if (pid === undefined) return
  const children = new Set(descendants(pid))
  child.kill('SIGTERM')
  if (!(await waitExit(child, graceMs))) {
    for (const late of descendants(pid)) children.add(late)
    child.kill('SIGKILL')
    await waitExit(child, 1000)
  }
  for (const group of children) killQuietly(-group, 'SIGKILL')
  for (const other of children) killQuietly(other, 'SIGKILL')
}

/** Polls GET /api/v1/health until it answers 200; throws if `child` exits first or after 20 s. */
export async function waitHealthy(client: HttpClient, child: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + 20_000
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`bench: ${what} exited with ${child.exitCode ?? child.signalCode} during start-up`)
    }
    try {
      const res = await client.send('GET', '/api/v1/health')
      if (res.status === 200) return
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`bench: ${what} did not answer /api/v1/health within 20 s`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), 'maxq-bench-'))
  const port = await freePort()
  let database = opts.database ?? null
  if (database === null && opts.databaseUrl !== undefined) database = await createDatabase(opts.databaseUrl)
  const env: Record<string, string> = {
    ...cleanEnv(),
    MAXQ_FLOWS_ROOT: opts.flowsRoot,
    MAXQ_PORT: String(port),
    MAXQ_HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ...(database
      ? { MAXQ_DATABASE_URL: database.url }
      : { MAXQ_SQLITE_PATH: opts.sqlitePath ?? join(dir, 'maxq.db') }),
    ...opts.env,
  }
  const log = createWriteStream(join(dir, 'server.log'))
  const child = spawn(
    process.execPath,
    [...(opts.nodeArgs ?? []), join(opts.root, 'dist/wrangler-free-local/main.js')],
    {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  child.stdout?.pipe(log)
  child.stderr?.pipe(log)
  const pid = child.pid
  if (pid === undefined) throw new Error('bench: could not start the MaxQ server')
  const origin = `http://127.0.0.1:${port}`
  const client = new HttpClient(origin, 16)

  let stopped = false
  const stop = async (): Promise<void> => {
    if (stopped) return
    stopped = true
    unregister()
    client.close()
    await stopProcessTree(child, 5000)
    await database?.drop()
    if (process.env.BENCH_KEEP_TEMP !== '1') rmSync(dir, { recursive: true, force: true })
  }
  const unregister = onCleanup(stop)

  try {
    await waitHealthy(client, child, `the MaxQ server (see ${dir}/server.log)`)
  } catch (error) {
    await stop()
    throw error
  }
  return { pid, port, origin, client, databaseUrl: database?.url, stop }
}
