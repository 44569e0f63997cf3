// The host's record of which process groups each live supervisor runs, for which lease. When a
// supervisor dies (SIGKILL, out of memory, a crashed tick loop) nobody renews its leases and nobody
// waits for its scripts; the next maxq worker on the host reads its record, kills the groups it
// left and hands the leases back at once (runtime/dead-supervisors.ts, then
// scheduler/recover-dead-supervisors.ts), instead of the scripts running on unsupervised while the
// lease expires and their re-run starts beside them.
//
// One small file per supervisor process in MAXQ_RUNTIME_DIR (per user, mode 0700), named
// `<pid>-<start time>.json`: the start time (/proc/<pid>/stat) tells the process from a later one
// that reuses its pid, and the boot id and pid namespace in its first line say whether the pid
// means anything here. After that line, one JSON line per change, appended synchronously with one
// write(2) (a few microseconds, whatever the number of scripts): a script started, or a job whose
// exit report was answered. The file is rewritten compactly (write, rename) when the changes
// outnumber the live entries. It exists from the process's start to its clean exit, even with
// nothing running: its first line names the worker, and the attempts the database says that
// worker holds are handed back too (claimed, then killed before the spawn). Each spawn is
// bracketed by two lines, one before it (no group yet) and one shortly after (the group, and its
// leader's start time), unless the script ended first: a process killed in between leaves the
// first, and its script is found by the MAXQ_LEASE in its environment. A torn last line (a write
// cut short) is ignored.

import { randomBytes } from 'node:crypto'
import {
  closeSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import path from 'node:path'
import { bootId, pidNamespace, readProcStat } from './proc-stat.js'

/** Long past a script's exec and its loader, short beside the lease a recovery would wait for. */
const STARTED_LINE_DELAY_MS = 20

export interface RegistryPlace {
  /** MAXQ_RUNTIME_DIR. */
  dir: string
  /** Names the database the leases belong to: only a worker on the same one hands them back. */
  scope: string
}

export interface RegistryEntry {
  lease: string
  /** The script's process group (its pid); null while it has not been started. */
  pgid: number | null
  /** The group leader's start time, so that a pgid reused by another process is never killed. */
  leaderStart: string | null
}

export interface RegistryRecord {
  version: 1
  pid: number
  startTime: string
  bootId: string
  pidNamespace: string
  scope: string
  workerId: string
  entries: RegistryEntry[]
}

/**
 * Every script a supervisor starts has its lease in this variable, so that one whose start was
 * never recorded (its supervisor killed during the spawn) can still be found and stopped.
 */
export const LEASE_VARIABLE = 'MAXQ_LEASE'

/** `<pid>-<start time>.json`; anything else in the directory (temp files) is not a record. */
export const RECORD_NAME = /^(\d+)-(\d+)\.json$/

/** What identifies this host's processes here: null where there is no /proc (no registry then). */
export interface HostIdentity {
  bootId: string
  pidNamespace: string
}

export function hostIdentity(): HostIdentity | null {
  const boot = bootId()
  const namespace = pidNamespace()
  return boot === null || namespace === null ? null : { bootId: boot, pidNamespace: namespace }
}

/**
 * Creates the directory (mode 0700) if needed and checks it; answers why it cannot be used, or null.
 */
export function prepareRegistryDir(dir: string): string | null {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
  } catch (error) {
    return `cannot create ${dir}: ${error instanceof Error ? error.message : String(error)}`
  }
  return checkRegistryDir(dir)
}

/**
 * Whether the directory is ours alone: a record in it makes a worker SIGKILL process groups, so a
 * directory anyone else can write into (or that is not ours) is not used at all. It is never
 * chmod'ed: MAXQ_RUNTIME_DIR=/tmp must not turn /tmp private.
 */
export function checkRegistryDir(dir: string): string | null {
  try {
    const stat = lstatSync(dir)
    if (!stat.isDirectory()) return `${dir} is not a directory`
    const uid = process.getuid?.()
    if (uid !== undefined && stat.uid !== uid) return `${dir} belongs to uid ${stat.uid}, not to us (${uid})`
    if ((stat.mode & 0o077) !== 0)
      return `${dir} is open to others (mode ${(stat.mode & 0o777).toString(8)}, not 700)`
    return null
  } catch (error) {
    return `cannot use ${dir}: ${error instanceof Error ? error.message : String(error)}`
  }
}

/** A record file we can trust: a regular file of ours (not a link someone left). */
export function isOwnFile(file: string): boolean {
  try {
    const stat = lstatSync(file)
    const uid = process.getuid?.()
    return stat.isFile() && (uid === undefined || stat.uid === uid)
  } catch {
    return false
  }
}

export function recordFile(dir: string, pid: number, startTime: string): string {
  return path.join(dir, `${pid}-${startTime}.json`)
}

type RecordHeader = Omit<RegistryRecord, 'entries'>

/** A change after the header line: an entry set (started, expected) or ended. */
type RecordLine = RegistryEntry | { lease: string; end: true }

/** The text of a record: its header line, then one line per entry. */
export function formatRecord(record: RegistryRecord): string {
  const { entries, ...header } = record
  return [header, ...entries].map((line) => `${JSON.stringify(line)}\n`).join('')
}

/** Writes a record atomically (a temp file renamed, or with `exclusive` linked, over the name). */
function writeRecord(file: string, record: RegistryRecord, exclusive: boolean): void {
  const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`
  writeFileSync(temp, formatRecord(record), { mode: 0o600 })
  try {
    if (exclusive) linkSync(temp, file)
    else renameSync(temp, file)
  } finally {
    if (exclusive) unlinkQuietly(temp)
  }
}

export function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file)
  } catch {
    // already gone
  }
}

export interface RegistryOptions {
  place: RegistryPlace
  workerId: string
  /** Told once when the record cannot be written: supervision goes on, the lease still holds. */
  onError?: (message: string) => void
}

/** Lines appended beyond the live entries before the file is rewritten compactly. */
const COMPACT_SLACK = 64

/** The record one supervisor process keeps of its own scripts. */
export class SupervisorRegistry {
  readonly #file: string
  readonly #base: RecordHeader
  readonly #entries = new Map<string, RegistryEntry>()
  readonly #onError: (message: string) => void
  /** Open for appending while the file exists. */
  #fd: number | null = null
  /** Lines in the file after its header. */
  #lines = 0
  #complained = false

  /** Null where the registry cannot work (no /proc, a directory that is not ours): said once. */
  static open(opts: RegistryOptions): SupervisorRegistry | null {
    const onError = opts.onError ?? ((message: string) => process.stderr.write(`maxq: ${message}\n`))
    const host = hostIdentity()
    const self = readProcStat(process.pid)
    if (host === null || self === null) return null
    const problem = prepareRegistryDir(opts.place.dir)
    if (problem !== null) {
      onError(`supervisor registry off (${problem}); a dead supervisor's scripts are not stopped`)
      return null
    }
    const registry = new SupervisorRegistry(
      recordFile(opts.place.dir, process.pid, self.startTime),
      {
        version: 1,
        pid: process.pid,
        startTime: self.startTime,
        ...host,
        scope: opts.place.scope,
        workerId: opts.workerId,
      },
      onError,
    )
    // From now on, even with nothing running: a worker killed between a claim's commit and its
    // spawns leaves this record, whose workerId names the attempts it claimed.
    registry.#guard(() => registry.#rewrite())
    return registry
  }

  private constructor(file: string, base: RecordHeader, onError: (m: string) => void) {
    this.#file = file
    this.#base = base
    this.#onError = onError
  }

  get file(): string {
    return this.#file
  }

  /** Leases handed to this process that it has not started yet (a detached supervisor's jobs). */
  expect(leases: readonly string[]): void {
    for (const lease of leases) this.#entries.set(lease, { lease, pgid: null, leaderStart: null })
    // Replaces the record a one-shot tick may have written under our name: it has nothing more.
    this.#guard(() => this.#rewrite())
  }

  /**
   * Right before the spawn. A process killed while it spawns (glibc's posix_spawn and libuv's fork
   * keep the parent waiting until the child has exec'd) leaves this entry without a group; the
   * script, if it started, is then found by the MAXQ_LEASE in its environment (LEASE_VARIABLE).
   */
  starting(lease: string): void {
    const entry = { lease, pgid: null, leaderStart: null }
    this.#entries.set(lease, entry)
    this.#guard(() => this.#append(entry))
  }

  /**
   * After the spawn (and `starting`): the group and its leader's start time, recorded
   * STARTED_LINE_DELAY_MS later. Read at once, a just-exec'd child's stat is answered only when
   * its loader is done, with this whole process blocked for about a millisecond at every script's
   * start. Until then the entry has no group, as if this process had been killed while it spawned;
   * a script that ends sooner never gets the line. Resolves once that is settled.
   */
  async started(lease: string, pgid: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, STARTED_LINE_DELAY_MS).unref())
    if (!this.#entries.has(lease)) return
    // The leader may have exited already, its report not yet answered: the group is then recorded
    // without a start time, and a recovery only checks that the group still exists.
    const entry = { lease, pgid, leaderStart: readProcStat(pgid)?.startTime ?? null }
    this.#entries.set(lease, entry)
    this.#guard(() => this.#append(entry))
  }

  /** Once the job's exit report has been answered: the lease is no longer ours to hand back. */
  ended(lease: string): void {
    if (!this.#entries.delete(lease)) return
    this.#guard(() => this.#append({ lease, end: true }))
  }

  /** A clean exit: nothing is left to recover. */
  close(): void {
    this.#entries.clear()
    this.#remove()
  }

  #append(line: RecordLine): void {
    if (this.#fd === null || this.#lines > 2 * this.#entries.size + COMPACT_SLACK) return this.#rewrite()
    writeSync(this.#fd, `${JSON.stringify(line)}\n`)
    this.#lines++
  }

  /** The live entries alone, in a new file renamed over the old one, then appended to. */
  #rewrite(): void {
    writeRecord(this.#file, { ...this.#base, entries: [...this.#entries.values()] }, false)
    this.#closeFd()
    this.#fd = openSync(this.#file, 'a')
    this.#lines = this.#entries.size
  }

  #remove(): void {
    this.#closeFd()
    unlinkQuietly(this.#file)
  }

  #closeFd(): void {
    if (this.#fd === null) return
    try {
      closeSync(this.#fd)
    } catch {
      // nothing to do about it
    }
    this.#fd = null
  }

  #guard(change: () => void): void {
    try {
      change()
    } catch (error) {
      if (this.#complained) return
      this.#complained = true
      this.#onError(
        `cannot write the supervisor registry ${this.#file} (${error instanceof Error ? error.message : String(error)}); ` +
          'if this process dies its scripts are not stopped before their leases expire',
      )
    }
  }
}

/**
 * A one-shot tick records the leases it hands to a detached supervisor under that supervisor's
 * name, right after starting it: if it dies before it has written its own record, the leases are
 * still handed back at once. The supervisor's own record, when it exists first, wins.
 */
export function recordHandedOver(
  place: RegistryPlace,
  pid: number,
  workerId: string,
  leases: string[],
): void {
  const host = hostIdentity()
  // Our child, not waited for: its stat is there even if it has already exited.
  const child = readProcStat(pid)
  if (host === null || child === null || leases.length === 0) return
  if (prepareRegistryDir(place.dir) !== null) return
  const record: RegistryRecord = {
    version: 1,
    pid,
    startTime: child.startTime,
    ...host,
    scope: place.scope,
    workerId,
    entries: leases.map((lease) => ({ lease, pgid: null, leaderStart: null })),
  }
  try {
    writeRecord(recordFile(place.dir, pid, child.startTime), record, true)
  } catch {
    // EEXIST: the supervisor wrote its own record first. Anything else: the lease still holds.
  }
}

/**
 * A record read back: its header, and its entries after every change line is applied. Null when
 * the header is not one of ours; a line that does not parse (the torn last one) is skipped.
 */
export function parseRecord(text: string): RegistryRecord | null {
  const [first, ...rest] = text.split('\n')
  const header = parseJson(first ?? '') as Partial<RecordHeader> | null
  if (
    header === null ||
    header.version !== 1 ||
    typeof header.pid !== 'number' ||
    typeof header.startTime !== 'string' ||
    typeof header.bootId !== 'string' ||
    typeof header.pidNamespace !== 'string' ||
    typeof header.scope !== 'string' ||
    typeof header.workerId !== 'string'
  ) {
    return null
  }
  const entries = new Map<string, RegistryEntry>()
  for (const text of rest) {
    const line = parseJson(text) as Partial<RegistryEntry & { end: true }> | null
    if (line === null || typeof line.lease !== 'string') continue
    if (line.end === true) {
      entries.delete(line.lease)
      continue
    }
    const { lease, pgid = null, leaderStart = null } = line
    if (pgid !== null && !(typeof pgid === 'number' && Number.isSafeInteger(pgid) && pgid > 1)) continue
    if (leaderStart !== null && typeof leaderStart !== 'string') continue
    entries.set(lease, { lease, pgid, leaderStart })
  }
  const { version, pid, startTime, bootId, pidNamespace, scope, workerId } = header as RecordHeader
  return { version, pid, startTime, bootId, pidNamespace, scope, workerId, entries: [...entries.values()] }
}

function parseJson(text: string): object | null {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : null
  } catch {
    return null
  }
}
