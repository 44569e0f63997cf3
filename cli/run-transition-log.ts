// The operator's log of run transitions: one `info` line per run started, stage done, step failed
// (with why) and run ended, told by the database layer after the transaction that made the change
// committed (db/sql-executor.ts SystemLogSink). With LOG_FORMAT=json the line's fields are members
// of its object, for a log shipper to filter on (`event`, `runId`, `flow`…).

import type { SystemLine, SystemLog } from '../db/sql-executor.js'
import type { Logger } from './log.js'

/** The sink cli/ gives `openStore`: each committed transition as one info line. */
export function runTransitionLog(log: Logger): SystemLog {
  return (line) => log.info(wording(line), { ...line })
}

const ofRun = (line: { runId: string; flow: string | null }): string =>
  line.flow ? `run ${line.runId} (${line.flow})` : `run ${line.runId}`

/** Why a step attempt failed, in words. */
export function failureText(line: Extract<SystemLine, { event: 'step_failed' }>): string {
  switch (line.reason) {
    case 'exit_code':
      return `exit code ${line.exitCode ?? '?'}`
    case 'signal':
      return `killed by signal ${line.signal ?? '?'}`
    case 'timeout':
      return `timed out${line.signal ? ` (stopped with ${line.signal})` : ''}`
    case 'lease_expired':
      return 'lease lost (its supervisor or host stopped renewing it)'
    case 'lost_attempts_exceeded':
      return 'lease lost too many times (MAXQ_MAX_LOST_ATTEMPTS)'
    case 'dependency_failed':
      return `dependency failed (${line.failedStep ?? '?'} failed first)`
    default:
      return line.reason
  }
}

function seconds(ms: number): string {
  return ms < 60_000
    ? `${(ms / 1000).toFixed(1)} s`
    : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`
}

export function wording(line: SystemLine): string {
  switch (line.event) {
    case 'run_started':
      return `${ofRun(line)} started`
    case 'stage_done':
      return `${ofRun(line)}: stage ${line.stage} ${line.status}`
    case 'step_failed': {
      const attempt = line.attempt === null ? '' : ` attempt ${line.attempt}`
      const then = line.requeued
        ? '; queued again'
        : line.retry === null
          ? ''
          : `; retry ${line.retry} follows`
      return `${ofRun(line)}: step ${line.step}${attempt} failed: ${failureText(line)}${then}`
    }
    case 'run_ended': {
      const why = line.reason ? ` (${line.reason})` : ''
      return `${ofRun(line)} ${line.status}${why} after ${seconds(line.durationMs)}`
    }
  }
}
