// Runs scripts and reports how each one ended. One Supervisor serves many jobs in one process: the
// long-lived local runner keeps one, a one-shot `maxq tick` hands its jobs to a detached process
// (supervisor-main.ts) that keeps one until they are all reported. Per job it costs two pipes, the
// bounded collectors and, only when the job has a timeout, one timer; one interval heartbeats all
// running leases together.

import { BoundedOutput } from './bounded-output.js'
import {
  DEFAULT_ABORT_GRACE_MS,
  EXIT_DRAIN_MS,
  HEARTBEAT_INTERVAL_MS,
  MAX_CAPTURED_OUTPUT_BYTES,
} from './limits.js'
import { maskSecrets } from './mask-secrets.js'
import type { ExitReportBody, ProcessJob } from './process-job.js'
import { httpSinks, reportExit, type FetchLike, type ReportSinks } from './report-exit.js'
import { killGroup, resolveSpawner, spawnDetached, type ScriptExit, type Spawner } from './spawn-detached.js'
import { LEASE_VARIABLE, type SupervisorRegistry } from './supervisor-registry.js'

export interface SupervisorOptions {
  /** Base of the API the reports go to, e.g. http://127.0.0.1:3000/api/v1. */
  apiBase: string
  /** MAXQ_API_TOKEN, sent with the reports when the API requires it. */
  apiToken?: string
  /** Names this supervisor in heartbeats (the lease owner). */
  workerId: string
  /** Defaults to the global fetch. */
  fetch?: FetchLike
  /**
   * Where exit reports and heartbeats go; defaults to the API's `/leases/*` through `fetch`. A
   * worker that holds the store itself records them there directly (cli/start-worker.ts).
   */
  sinks?: ReportSinks
  heartbeatMs?: number
  /** Time between SIGTERM and SIGKILL on timeout, abort or a lost lease. */
  graceMs?: number
  /** Bytes kept of stdout and, separately, of stderr. */
  maxOutputBytes?: number
  /** Called once per job after its exit report was answered. */
  onExit?: (lease: string) => void
  /** How scripts are started; defaults to the posix_spawn addon when it loads. */
  spawner?: Spawner
  /**
   * Where this process records the process group of each script it starts, so that the next
   * worker on the host can stop them if this process dies (runtime/supervisor-registry.ts).
   */
  registry?: SupervisorRegistry | null
}

interface Tracked {
  job: ProcessJob
  /** Process group id; null when the spawn failed. */
  pid: number | null
  /** True once the script itself has exited; the lease stays tracked until its report is answered. */
  exited: boolean
  terminating: boolean
  timedOut: boolean
  timeoutTimer: NodeJS.Timeout | null
  graceTimer: NodeJS.Timeout | null
}

export class Supervisor {
  readonly #workerId: string
  readonly #sinks: ReportSinks
  readonly #heartbeatMs: number
  readonly #graceMs: number
  readonly #maxOutputBytes: number
  readonly #onExit: ((lease: string) => void) | undefined
  readonly #spawner: Spawner
  readonly #registry: SupervisorRegistry | null
  readonly #jobs = new Map<string, Tracked>()
  #heartbeat: NodeJS.Timeout | null = null
  #heartbeatInFlight: Promise<void> | null = null
  #idleWaiters: Array<() => void> = []
  #stopped = false

  constructor(opts: SupervisorOptions) {
    this.#workerId = opts.workerId
    this.#sinks =
      opts.sinks ??
      httpSinks(opts.apiBase, opts.fetch ?? ((input, init) => fetch(input, init)), opts.apiToken)
    this.#heartbeatMs = opts.heartbeatMs ?? HEARTBEAT_INTERVAL_MS
    this.#graceMs = opts.graceMs ?? DEFAULT_ABORT_GRACE_MS
    this.#maxOutputBytes = opts.maxOutputBytes ?? MAX_CAPTURED_OUTPUT_BYTES
    this.#onExit = opts.onExit
    this.#spawner = opts.spawner ?? resolveSpawner('auto')
    this.#registry = opts.registry ?? null
  }

  /** Jobs started and not yet reported (a job whose report is still being delivered counts). */
  get running(): number {
    return this.#jobs.size
  }

  /** Starts the job's script and, in the background, reports its end. Never throws. */
  start(job: ProcessJob): void {
    if (this.#jobs.has(job.lease)) {
      process.stderr.write(`maxq: lease ${job.lease} is already running here; ignored\n`)
      return
    }
    const startedAt = Date.now()
    const stdout = new BoundedOutput(this.#maxOutputBytes)
    const stderr = new BoundedOutput(this.#maxOutputBytes)
    // Before and after, synchronously: whenever this process dies, the script can be found.
    this.#registry?.starting(job.lease)
    const env = { ...job.env, [LEASE_VARIABLE]: job.lease }
    const child = spawnDetached({ command: job.command, cwd: job.cwd, env }, this.#spawner)
    if (child.pid !== null) void this.#registry?.started(job.lease, child.pid)
    child.stdout?.on('data', (chunk: Buffer) => stdout.write(chunk))
    child.stderr?.on('data', (chunk: Buffer) => stderr.write(chunk))
    const tracked: Tracked = {
      job,
      pid: child.pid,
      exited: false,
      terminating: false,
      timedOut: false,
      timeoutTimer: null,
      graceTimer: null,
    }
    this.#jobs.set(job.lease, tracked)
    if (job.timeoutSeconds !== null && job.timeoutSeconds > 0 && child.pid !== null) {
      tracked.timeoutTimer = setTimeout(() => {
        tracked.timedOut = true
        this.#terminate(tracked)
      }, job.timeoutSeconds * 1000)
    }
    this.#ensureHeartbeat()

    const finish = async (exit: ScriptExit): Promise<void> => {
      tracked.exited = true
      clearTimer(tracked.timeoutTimer)
      clearTimer(tracked.graceTimer)
      if (tracked.pid !== null) await this.#drain(tracked.pid, child.closed)
      child.stdout?.destroy()
      child.stderr?.destroy()
      if (exit.spawnError !== null) stderr.write(exit.spawnError)
      const body: ExitReportBody = {
        lease: job.lease,
        exitCode: exit.code,
        signal: exit.signal,
        timedOut: tracked.timedOut,
        stdout: maskSecrets(stdout.toString(), job.secrets ?? []),
        stderr: maskSecrets(stderr.toString(), job.secrets ?? []),
        startedAt,
      }
      await reportExit(body, this.#sinks.exit)
    }

    child.exited
      .then(finish)
      .catch((error: unknown) => {
        // reportExit retries until delivered, so this is a bug; still, never leak the lease.
        process.stderr.write(`maxq: supervising ${job.lease} failed: ${String(error)}\n`)
      })
      .finally(() => this.#forget(job.lease))
  }

  /** Heartbeats all running leases now and terminates the process groups of the lost ones. */
  async checkLeases(): Promise<void> {
    if (this.#heartbeatInFlight !== null) return this.#heartbeatInFlight
    const leases = [...this.#jobs.keys()]
    if (leases.length === 0) return
    const run = async (): Promise<void> => {
      // A failed renewal loses nothing: the next interval sends another.
      const { lost } = await this.#sinks
        .heartbeat({ workerId: this.#workerId, leases })
        .catch(() => ({ lost: [] as string[] }))
      for (const lease of lost) {
        const tracked = this.#jobs.get(lease)
        if (tracked !== undefined) this.#terminate(tracked)
      }
    }
    this.#heartbeatInFlight = run().finally(() => {
      this.#heartbeatInFlight = null
    })
    return this.#heartbeatInFlight
  }

  /** The leases of every job started and not yet reported. */
  get leases(): string[] {
    return [...this.#jobs.keys()]
  }

  /** Terminates every running process group (SIGTERM, grace, SIGKILL); reports follow as usual. */
  terminateAll(): void {
    for (const tracked of this.#jobs.values()) this.#terminate(tracked)
  }

  /** Resolves when nothing is running and no exit report is in flight. */
  idle(): Promise<void> {
    if (this.#jobs.size === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idleWaiters.push(resolve))
  }

  /** Stops heartbeating. Running children are left alone; their reports are still sent. */
  stop(): void {
    this.#stopped = true
    clearTimer(this.#heartbeat)
    this.#heartbeat = null
  }

  /** SIGTERM to the whole group, then SIGKILL after the grace period if the script is still there. */
  #terminate(tracked: Tracked): void {
    if (tracked.pid === null || tracked.exited || tracked.terminating) return
    tracked.terminating = true
    const pid = tracked.pid
    killGroup(pid, 'SIGTERM')
    tracked.graceTimer = setTimeout(() => {
      tracked.graceTimer = null
      if (!tracked.exited) killGroup(pid, 'SIGKILL')
    }, this.#graceMs)
  }

  /**
   * The script has exited; background children may still hold its pipes. The group gets SIGTERM,
   * then until its pipes close (at most EXIT_DRAIN_MS), then SIGKILL, so that nothing the script
   * started outlives it and one stray `sleep 100 &` cannot hold the report back.
   */
  async #drain(pid: number, closed: Promise<void>): Promise<void> {
    killGroup(pid, 'SIGTERM')
    let timer: NodeJS.Timeout | undefined
    await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, EXIT_DRAIN_MS)))])
    clearTimeout(timer)
    killGroup(pid, 'SIGKILL')
  }

  #ensureHeartbeat(): void {
    if (this.#heartbeat !== null || this.#stopped) return
    this.#heartbeat = setInterval(() => void this.checkLeases(), this.#heartbeatMs)
    this.#heartbeat.unref()
  }

  #forget(lease: string): void {
    this.#jobs.delete(lease)
    this.#registry?.ended(lease)
    try {
      this.#onExit?.(lease)
    } catch (error) {
      process.stderr.write(`maxq: onExit(${lease}) threw: ${String(error)}\n`)
    }
    if (this.#jobs.size > 0) return
    clearTimer(this.#heartbeat)
    this.#heartbeat = null
    const waiters = this.#idleWaiters
    this.#idleWaiters = []
    for (const resolve of waiters) resolve()
  }
}

function clearTimer(timer: NodeJS.Timeout | null): void {
  if (timer !== null) clearTimeout(timer)
}
