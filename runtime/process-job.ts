// What the scheduler hands the runtime: one script to run and where to report its end.
// The runtime knows nothing of runs, stages or databases; a job is plain data so that it can
// cross into a detached supervisor process as JSON.

export interface ProcessJob {
  /** Opaque lease key; echoed in heartbeats and in the exit report. */
  lease: string
  /** Absolute path of flow.sh or step.sh. */
  command: string
  cwd: string
  /** The complete environment of the child (the caller builds it, see runtime/script-env.ts). */
  env: Record<string, string>
  /** Wall-clock limit; null means none. */
  timeoutSeconds: number | null
  /** Values shown as *** in the captured output (the run token, secret-looking step env). */
  secrets?: string[]
}

/** What the supervisor posts to `${apiBase}/leases/exit` when a job's process has ended. */
export interface ExitReportBody {
  lease: string
  exitCode: number | null
  signal: string | null
  timedOut: boolean
  stdout: string
  stderr: string
  startedAt: number
}

/** What the supervisor posts to `${apiBase}/leases/heartbeat`; the answer is `{lost: string[]}`. */
export interface HeartbeatBody {
  workerId: string
  leases: string[]
}
