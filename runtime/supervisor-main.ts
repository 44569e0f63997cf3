// Entry of the detached supervisor a one-shot `maxq tick` leaves behind:
//   node dist/runtime/supervisor-main.js <jobs.json>
// It reads its jobs from the file (then deletes it: the environments inside may hold secrets),
// runs them all, and exits once every exit report has been answered. If it dies, the leases stop
// being renewed; the next maxq worker on this host finds its record in the supervisor registry,
// kills its scripts and hands the leases back (runtime/dead-supervisors.ts), and a tick on any host
// reaps them once they expire.

import { readFile, unlink } from 'node:fs/promises'
import { pathToFileURL } from 'node:url'
import type { ProcessJob } from './process-job.js'
import type { Spawner } from './spawn-detached.js'
import { Supervisor } from './supervise.js'
import { SupervisorRegistry, type RegistryPlace } from './supervisor-registry.js'

export interface SupervisorJobsFile {
  apiBase: string
  /** MAXQ_API_TOKEN, for the reports to an API that requires it (the file is 0600 and deleted). */
  apiToken?: string
  workerId: string
  graceMs: number
  spawner: Spawner
  /** Where to record the scripts' process groups (MAXQ_RUNTIME_DIR); absent: not recorded. */
  registry?: RegistryPlace
  jobs: ProcessJob[]
}

/** Runs the jobs in the file until all are reported; resolves with the process exit code. */
export async function supervisorMain(jobsFile: string): Promise<number> {
  let parsed: SupervisorJobsFile
  try {
    const text = await readFile(jobsFile, 'utf8')
    await unlink(jobsFile).catch(() => undefined)
    parsed = parseJobsFile(JSON.parse(text))
  } catch (error) {
    process.stderr.write(`maxq supervisor: cannot read ${jobsFile}: ${String(error)}\n`)
    return 1
  }
  const registry =
    parsed.registry === undefined
      ? null
      : SupervisorRegistry.open({ place: parsed.registry, workerId: parsed.workerId })
  registry?.expect(parsed.jobs.map((job) => job.lease))
  const supervisor = new Supervisor({
    apiBase: parsed.apiBase,
    apiToken: parsed.apiToken,
    workerId: parsed.workerId,
    graceMs: parsed.graceMs,
    spawner: parsed.spawner,
    registry,
  })
  for (const job of parsed.jobs) supervisor.start(job)
  // The heartbeat interval is unref'd; the children's pipes and pending reports keep us alive.
  await supervisor.idle()
  supervisor.stop()
  registry?.close()
  return 0
}

export function parseJobsFile(value: unknown): SupervisorJobsFile {
  if (!isRecord(value)) throw new TypeError('jobs file: not an object')
  const { apiBase, apiToken, workerId, graceMs, spawner, registry, jobs } = value
  if (typeof apiBase !== 'string' || typeof workerId !== 'string')
    throw new TypeError('jobs file: apiBase, workerId')
  if (typeof graceMs !== 'number' || !(graceMs >= 0)) throw new TypeError('jobs file: graceMs')
  if (spawner !== 'posix_spawn' && spawner !== 'child_process') throw new TypeError('jobs file: spawner')
  if (!Array.isArray(jobs)) throw new TypeError('jobs file: jobs')
  if (apiToken !== undefined && typeof apiToken !== 'string') throw new TypeError('jobs file: apiToken')
  return {
    apiBase,
    apiToken,
    workerId,
    graceMs,
    spawner,
    ...(registry === undefined ? {} : { registry: parsePlace(registry) }),
    jobs: jobs.map(parseJob),
  }
}

function parsePlace(value: unknown): RegistryPlace {
  if (!isRecord(value) || typeof value.dir !== 'string' || typeof value.scope !== 'string') {
    throw new TypeError('jobs file: registry')
  }
  return { dir: value.dir, scope: value.scope }
}

function parseJob(value: unknown, index: number): ProcessJob {
  const bad = (what: string): TypeError => new TypeError(`jobs file: jobs[${index}].${what}`)
  if (!isRecord(value)) throw bad('')
  const { lease, command, cwd, env, timeoutSeconds, secrets } = value
  if (typeof lease !== 'string') throw bad('lease')
  if (typeof command !== 'string') throw bad('command')
  if (typeof cwd !== 'string') throw bad('cwd')
  if (!isRecord(env) || !Object.values(env).every((v) => typeof v === 'string')) throw bad('env')
  if (timeoutSeconds !== null && typeof timeoutSeconds !== 'number') throw bad('timeoutSeconds')
  if (secrets !== undefined && !(Array.isArray(secrets) && secrets.every((s) => typeof s === 'string'))) {
    throw bad('secrets')
  }
  return { lease, command, cwd, env: env as Record<string, string>, timeoutSeconds, secrets }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

const entry = process.argv[1]
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  const jobsFile = process.argv[2]
  if (jobsFile === undefined) {
    process.stderr.write('usage: supervisor-main.js <jobs.json>\n')
    process.exit(2)
  }
  process.exit(await supervisorMain(jobsFile))
}
