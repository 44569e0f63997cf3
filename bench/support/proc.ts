// Reads /proc: CPU time and resident memory of a process and of its whole tree (Linux only).

import { readdirSync, readFileSync } from 'node:fs'

const PAGE_BYTES = 4096
const CLOCK_TICKS_PER_SECOND = 100

interface ProcStat {
  pid: number
  /** The executable's name as the kernel keeps it (at most 15 characters). */
  command: string
  ppid: number
  /** utime + stime, in clock ticks. */
  cpuTicks: number
  rssBytes: number
}

function readStat(pid: number): ProcStat | null {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return null
  }
  // The command name is in parentheses and may contain spaces: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15, rss 24.
  return {
    pid,
    command: text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')),
    ppid: Number(fields[1]),
    cpuTicks: Number(fields[11]) + Number(fields[12]),
    rssBytes: Number(fields[21]) * PAGE_BYTES,
  }
}

/** CPU seconds (user + system) a process has used so far; null once it is gone. */
export function cpuSeconds(pid: number): number | null {
  const stat = readStat(pid)
  return stat === null ? null : stat.cpuTicks / CLOCK_TICKS_PER_SECOND
}

function allProcesses(): ProcStat[] {
  const all: ProcStat[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const stat = readStat(Number(name))
    if (stat !== null) all.push(stat)
  }
  return all
}

/**
 * CPU seconds used so far by every process alive now whose command is `command`, such as all of a
 * host's PostgreSQL processes (`postgres`): compare two readings over a load to charge it theirs.
 */
export function commandCpuSeconds(command: string): number {
  const ticks = allProcesses()
    .filter((stat) => stat.command === command)
    .reduce((sum, stat) => sum + stat.cpuTicks, 0)
  return ticks / CLOCK_TICKS_PER_SECOND
}

/** The process and all its descendants, alive now. */
export function processTree(root: number): ProcStat[] {
  const all = allProcesses()
  const children = new Map<number, ProcStat[]>()
  for (const stat of all) {
    const list = children.get(stat.ppid) ?? []
    list.push(stat)
    children.set(stat.ppid, list)
  }
  const rootStat = all.find((stat) => stat.pid === root)
  if (rootStat === undefined) return []
  const tree: ProcStat[] = [rootStat]
  for (let i = 0; i < tree.length; i++) {
    const node = tree[i]
    if (node !== undefined) tree.push(...(children.get(node.pid) ?? []))
  }
  return tree
}

/** The descendants of a process (not the process itself). */
export function descendants(root: number): number[] {
  return processTree(root)
    .slice(1)
    .map((stat) => stat.pid)
}

export interface MemoryPeak {
  serverPeakBytes: number
  treePeakBytes: number
  samples: number
}

/**
 * Samples the RSS of a process and of its tree every `everyMs` until stopped. Steps are detached
 * into their own process groups but stay children of the server, so the tree holds them.
 */
export class MemorySampler {
  readonly #pid: number
  readonly #timer: NodeJS.Timeout
  #peak: MemoryPeak = { serverPeakBytes: 0, treePeakBytes: 0, samples: 0 }

  constructor(pid: number, everyMs = 50) {
    this.#pid = pid
    this.#sample()
    this.#timer = setInterval(() => this.#sample(), everyMs)
  }

  #sample(): void {
    const tree = processTree(this.#pid)
    const server = tree[0]
    if (server === undefined) return
    const total = tree.reduce((sum, stat) => sum + stat.rssBytes, 0)
    this.#peak = {
      serverPeakBytes: Math.max(this.#peak.serverPeakBytes, server.rssBytes),
      treePeakBytes: Math.max(this.#peak.treePeakBytes, total),
      samples: this.#peak.samples + 1,
    }
  }

  stop(): MemoryPeak {
    clearInterval(this.#timer)
    this.#sample()
    return this.#peak
  }
}

/** Current RSS of one process in bytes (0 once it is gone). */
export function rssBytes(pid: number): number {
  return readStat(pid)?.rssBytes ?? 0
}
