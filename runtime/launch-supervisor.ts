// Hands jobs to a detached supervisor process, so that a one-shot `maxq tick` can exit at once
// while its steps keep running. The jobs travel in a 0600 temp file (their environments may hold
// secrets that must not appear in argv, which any user can read with ps).

import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { packageRoot } from './package-root.js'
import type { SupervisorJobsFile } from './supervisor-main.js'
import { recordHandedOver } from './supervisor-registry.js'

/** Starts `node supervisor-main.js <jobs file>` in its own process group; returns its pid. */
export function launchSupervisor(jobs: SupervisorJobsFile): number {
  const script = supervisorMainPath()
  const jobsFile = path.join(tmpdir(), `maxq-jobs-${randomUUID()}.json`)
  writeFileSync(jobsFile, JSON.stringify(jobs), { mode: 0o600, flag: 'wx' })
  const child = spawn(process.execPath, [script, jobsFile], { detached: true, stdio: 'ignore' })
  child.on('error', (error) => {
    process.stderr.write(`maxq: cannot start the supervisor: ${error.message}\n`)
  })
  child.unref()
  if (child.pid === undefined) {
    try {
      unlinkSync(jobsFile)
    } catch {
      // already gone
    }
    throw new Error(`maxq: cannot start the supervisor (${process.execPath} ${script})`)
  }
  if (jobs.registry !== undefined) {
    // Under the supervisor's name, before it has started: if it dies before it writes its own
    // record, the next worker on this host still hands these leases back at once.
    recordHandedOver(
      jobs.registry,
      child.pid,
      jobs.workerId,
      jobs.jobs.map((job) => job.lease),
    )
  }
  return child.pid
}

/**
 * The compiled supervisor-main.js: next to this file when running from dist/, or under the
 * package's dist/ when this file is the TypeScript source (vitest). Node cannot run the .ts itself.
 */
export function supervisorMainPath(): string {
  const here = fileURLToPath(import.meta.url)
  if (here.endsWith('.js')) return path.join(path.dirname(here), 'supervisor-main.js')
  const compiled = path.join(packageRoot(), 'dist', 'runtime', 'supervisor-main.js')
  if (!existsSync(compiled)) throw new Error(`maxq: ${compiled} is missing; run npm run build`)
  return compiled
}
