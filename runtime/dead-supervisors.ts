// Finds this host's dead supervisors in the registry (runtime/supervisor-registry.ts) and stops what
// they left running: every process group they recorded gets SIGKILL (no grace: nobody captures its
// output or reports its end any more, and its attempt is about to run again), then this waits until
// nothing of those groups runs. A lease recorded without a group (its supervisor died while it
// spawned the script, or before) is looked for by the MAXQ_LEASE its script would carry. Only then
// are the records answered, so the caller's re-queue of their leases can never start a re-run
// beside an orphan.

import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { killGroup } from './spawn-detached.js'
import { groupsCarrying, groupsStillRunning, isSameLiveProcess, readProcStat } from './proc-stat.js'
import {
  checkRegistryDir,
  hostIdentity,
  isOwnFile,
  LEASE_VARIABLE,
  parseRecord,
  RECORD_NAME,
  unlinkQuietly,
  type RegistryEntry,
  type RegistryPlace,
} from './supervisor-registry.js'

/** How long the killed groups get to go before their records are left for the next look. */
export const ORPHAN_KILL_WAIT_MS = 5_000
/**
 * A dead supervisor's record of another database (one this host's workers do not use) is deleted
 * once its groups are gone and it is this old: by then the lease has long expired on its own.
 */
export const FOREIGN_RECORD_MAX_AGE_MS = 10 * 60_000
const POLL_MS = 20

export interface DeadSupervisor {
  /** Its record; delete it (forgetDeadSupervisor) once its leases are handed back. */
  file: string
  workerId: string
  /** The leases it held: its scripts are gone, so each can run again at once. */
  leases: string[]
  /**
   * Its workerId, when no live process on the host works under it any more: every attempt the
   * database says that worker holds is the dead one's too (claimed, never spawned). Null while a
   * live record shares it (a one-shot tick's detached supervisor keeps the tick's workerId).
   */
  worker: string | null
  /** Process groups this look killed. */
  killed: number
}

export interface StopOptions {
  waitMs?: number
  now?: () => number
}

/**
 * Dead supervisors of `place.scope` whose scripts are all gone (killed now, or gone already).
 * Those of other scopes get their groups killed too, and their old records deleted. A record
 * whose groups do not die within `waitMs` is left for the next look (the lease still holds).
 */
export async function stopDeadSupervisors(
  place: RegistryPlace,
  opts: StopOptions = {},
): Promise<DeadSupervisor[]> {
  const host = hostIdentity()
  // Never act on records others could have written.
  if (host === null || checkRegistryDir(place.dir) !== null) return []
  let names: string[]
  try {
    names = readdirSync(place.dir)
  } catch {
    return []
  }
  const now = opts.now ?? Date.now
  const found: Array<DeadSupervisor & { scope: string; groups: number[]; unstarted: string[] }> = []
  const live: string[] = []
  for (const name of names) {
    const match = RECORD_NAME.exec(name)
    if (match === null) continue
    const [, pidText, startTime] = match as unknown as [string, string, string]
    const file = path.join(place.dir, name)
    // Ours, or another live supervisor's: one stat read and nothing else.
    if (isSameLiveProcess(Number(pidText), startTime)) {
      live.push(file)
      continue
    }
    if (!isOwnFile(file)) continue
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch {
      continue
    }
    const record = parseRecord(text)
    if (record === null) {
      if (isOlderThan(file, FOREIGN_RECORD_MAX_AGE_MS, now())) unlinkQuietly(file)
      continue
    }
    // Pids from another container's namespace say nothing here; whoever shares it will look.
    if (record.pidNamespace !== host.pidNamespace) continue
    // After a reboot nothing of it runs; within this boot, what is left is killed below.
    const sameBoot = record.bootId === host.bootId
    found.push({
      file,
      workerId: record.workerId,
      leases: record.entries.map((entry) => entry.lease),
      worker: record.workerId,
      killed: 0,
      scope: record.scope,
      groups: sameBoot ? record.entries.filter(isStillTheSameGroup).map((entry) => entry.pgid as number) : [],
      unstarted: sameBoot ? record.entries.filter((entry) => entry.pgid === null).map((e) => e.lease) : [],
    })
  }
  if (found.length === 0) return []
  // Scripts whose start was not recorded (their supervisor died during the spawn), if any started.
  const carrying = groupsCarrying(LEASE_VARIABLE, new Set(found.flatMap((dead) => dead.unstarted)))
  for (const dead of found) {
    for (const lease of dead.unstarted) dead.groups.push(...(carrying.get(lease) ?? []))
  }
  const liveWorkers = new Set(live.map((file) => readRecord(file)?.workerId))
  for (const dead of found) if (liveWorkers.has(dead.workerId)) dead.worker = null

  // Only groups with a process still running: zombies need no signal and are no overlap.
  const alive = groupsStillRunning(new Set(found.flatMap((dead) => dead.groups)))
  for (const dead of found) {
    dead.groups = dead.groups.filter((pgid) => alive.has(pgid) && killGroup(pgid, 'SIGKILL'))
    dead.killed = dead.groups.length
  }
  const still = await waitForGroups(
    new Set(found.flatMap((dead) => dead.groups)),
    opts.waitMs ?? ORPHAN_KILL_WAIT_MS,
  )
  const stopped: DeadSupervisor[] = []
  for (const dead of found) {
    if (dead.groups.some((pgid) => still.has(pgid))) {
      process.stderr.write(`maxq: a dead supervisor's scripts survived SIGKILL; ${dead.file} is kept\n`)
      continue
    }
    if (dead.scope === place.scope) {
      const { file, workerId, leases, worker, killed } = dead
      stopped.push({ file, workerId, leases, worker, killed })
    } else if (isOlderThan(dead.file, FOREIGN_RECORD_MAX_AGE_MS, now())) {
      unlinkQuietly(dead.file)
    }
  }
  return stopped
}

/** Its leases are handed back: the record has served. */
export function forgetDeadSupervisor(dead: DeadSupervisor): void {
  unlinkQuietly(dead.file)
}

/**
 * Whether the entry's group still exists and is the one the supervisor started. Linux does
 * not give a pid to a new process while a process group still bears it as its id, so a group that
 * exists without its leader is still ours; with its leader, the leader's start time must match
 * (else the group died and its number now belongs to someone else's new group).
 */
function isStillTheSameGroup(entry: RegistryEntry): boolean {
  if (entry.pgid === null) return false
  const leader = readProcStat(entry.pgid)
  if (leader !== null && leader.startTime !== entry.leaderStart) return false
  // Signal 0: the group still exists (a process in it, if only a zombie); else no /proc scan.
  return killGroup(entry.pgid, 0)
}

async function waitForGroups(pgids: Set<number>, waitMs: number): Promise<Set<number>> {
  const deadline = Date.now() + waitMs
  if (pgids.size === 0) return pgids
  let still = groupsStillRunning(pgids)
  while (still.size > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
    still = groupsStillRunning(still)
  }
  return still
}

function readRecord(file: string): ReturnType<typeof parseRecord> {
  try {
    return parseRecord(readFileSync(file, 'utf8'))
  } catch {
    return null
  }
}

function isOlderThan(file: string, ageMs: number, now: number): boolean {
  try {
    return now - statSync(file).mtimeMs > ageMs
  } catch {
    return false
  }
}
