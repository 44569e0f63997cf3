// What Linux says about processes, read from /proc: enough to tell a live process from a dead one,
// the process that had a pid from a later one that reuses it (its start time), and which processes
// are left in a process group. Where there is no /proc every answer is null or empty, and the
// supervisor registry that relies on them is off (runtime/supervisor-registry.ts).

import { readdirSync, readFileSync, readlinkSync } from 'node:fs'

export interface ProcStat {
  /** R, S, D, Z (zombie: exited, not yet waited for), X, … */
  state: string
  /** Process group id. */
  pgrp: number
  /** Clock ticks after boot at which the process started: with the pid, it names one process. */
  startTime: string
}

/** The process's /proc/<pid>/stat, or null when there is no such process (or no /proc). */
export function readProcStat(pid: number): ProcStat | null {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return null
  }
  // Field 2, the command name, is in parentheses and may itself hold spaces and parentheses; the
  // fields after the last ')' are plain numbers and letters.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ')
  const state = rest[0]
  const pgrp = Number(rest[2])
  const startTime = rest[19]
  if (state === undefined || !Number.isSafeInteger(pgrp) || startTime === undefined) return null
  return { state, pgrp, startTime }
}

/** False for a process that has exited, even while it is a zombie nobody has waited for. */
export function isRunning(stat: ProcStat | null): stat is ProcStat {
  return stat !== null && stat.state !== 'Z' && stat.state !== 'X' && stat.state !== 'x'
}

/** The process with this pid if it is the one that started at `startTime` and has not exited. */
export function isSameLiveProcess(pid: number, startTime: string): boolean {
  const stat = readProcStat(pid)
  return isRunning(stat) && stat.startTime === startTime
}

/** Changes at every boot: a process recorded under another boot id is gone. */
export function bootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
  } catch {
    return null
  }
}

/** The pid namespace: pids recorded in another one (another container) mean nothing here. */
export function pidNamespace(): string | null {
  try {
    return readlinkSync('/proc/self/ns/pid')
  } catch {
    return null
  }
}

/** The pids of every process on the host (empty where there is no /proc). */
function allPids(): number[] {
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return []
  }
  return entries.map(Number).filter((pid) => Number.isSafeInteger(pid) && pid > 0)
}

/**
 * The process groups among `pgids` that still have a member that has not exited, found with one
 * pass over /proc. Zombies do not count: they run nothing, and where nobody reaps orphans (an init
 * that does not wait, in some containers) they would keep a killed group "alive" for ever.
 */
export function groupsStillRunning(pgids: ReadonlySet<number>): Set<number> {
  const running = new Set<number>()
  if (pgids.size === 0) return running
  for (const pid of allPids()) {
    const stat = readProcStat(pid)
    if (isRunning(stat) && pgids.has(stat.pgrp)) running.add(stat.pgrp)
  }
  return running
}

/**
 * The process groups of running processes whose environment (as exec'd) sets `name` to one of
 * `values`, by value: one pass over /proc, reading the environment only of processes we may read.
 * Far slower than a group check, so it is kept for what nothing else can find.
 */
export function groupsCarrying(name: string, values: ReadonlySet<string>): Map<string, Set<number>> {
  const found = new Map<string, Set<number>>()
  if (values.size === 0) return found
  const prefix = `${name}=`
  for (const pid of allPids()) {
    if (pid === process.pid) continue
    let environ: string
    try {
      environ = readFileSync(`/proc/${pid}/environ`, 'utf8')
    } catch {
      continue
    }
    if (!environ.includes(prefix)) continue
    const value = environ
      .split('\0')
      .find((variable) => variable.startsWith(prefix))
      ?.slice(prefix.length)
    const stat = readProcStat(pid)
    if (value === undefined || !values.has(value) || !isRunning(stat)) continue
    found.set(value, (found.get(value) ?? new Set()).add(stat.pgrp))
  }
  return found
}
