// The supervisor registry with real processes: a supervisor's record of its scripts' process groups,
// a dead owner told from a live one (a real child SIGKILLed), and the groups a dead supervisor left
// (a script and the background child it started) killed and gone before the record is answered.
// The detached supervisor is the compiled dist/runtime/supervisor-main.js: run `npm run build` first.

import { spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { stopDeadSupervisors } from '../../runtime/dead-supervisors.js'
import { launchSupervisor } from '../../runtime/launch-supervisor.js'
import { packageRoot } from '../../runtime/package-root.js'
import { isRunning, readProcStat } from '../../runtime/proc-stat.js'
import type { ExitReportBody } from '../../runtime/process-job.js'
import { spawnDetached } from '../../runtime/spawn-detached.js'
import { Supervisor } from '../../runtime/supervise.js'
import {
  formatRecord,
  hostIdentity,
  parseRecord,
  recordFile,
  SupervisorRegistry,
  type RegistryPlace,
  type RegistryRecord,
} from '../../runtime/supervisor-registry.js'
import { TEST_SPAWNER } from '../support/spawner.js'
import { waitFor } from '../support/wait-for.js'

const built = existsSync(path.join(packageRoot(), 'dist', 'runtime', 'supervisor-main.js'))
const linux = hostIdentity() !== null

let dir: string
let place: RegistryPlace
const started: ChildProcess[] = []
const groups: number[] = []

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'maxq-registry-'))
  place = { dir: path.join(dir, 'runtime'), scope: 'db-a' }
})

afterEach(async () => {
  for (const child of started.splice(0)) child.kill('SIGKILL')
  for (const pgid of groups.splice(0)) {
    try {
      process.kill(-pgid, 'SIGKILL')
    } catch {
      // gone
    }
  }
  await rm(dir, { recursive: true, force: true })
})

/** A script that records its pid and its background child's, then waits for the child. */
async function longScript(name: string): Promise<string> {
  const command = path.join(dir, `${name}.sh`)
  await writeFile(
    command,
    `#!/bin/bash\necho $$ > "${dir}/${name}.shell"\nsleep 600 &\necho $! > "${dir}/${name}.bg"\nwait\n`,
  )
  await chmod(command, 0o755)
  return command
}

async function pidsOf(name: string): Promise<number[]> {
  const found = await waitFor(() => {
    const files = [`${name}.shell`, `${name}.bg`].map((file) => path.join(dir, file))
    if (!files.every((file) => existsSync(file) && readFileSync(file, 'utf8').endsWith('\n'))) return null
    return files.map((file) => Number(readFileSync(file, 'utf8')))
  })
  return found ?? []
}

const running = (pid: number): boolean => isRunning(readProcStat(pid))

function records(): RegistryRecord[] {
  if (!existsSync(place.dir)) return []
  return readdirSync(place.dir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => parseRecord(readFileSync(path.join(place.dir, name), 'utf8')))
    .filter((record): record is RegistryRecord => record !== null)
}

/** A live process that is not ours to supervise: the owner of a record, killed when a test says. */
function owner(): ChildProcess {
  const child = spawn('sleep', ['600'], { stdio: 'ignore' })
  started.push(child)
  return child
}

async function killAndWait(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGKILL')
  await exited
}

/** Writes a record as the supervisor `pid` would have. */
function writeRecordOf(
  pid: number,
  entries: RegistryRecord['entries'],
  overrides: Partial<RegistryRecord> = {},
) {
  const host = hostIdentity()
  const stat = readProcStat(pid)
  if (host === null || stat === null) throw new Error('no /proc')
  const record: RegistryRecord = {
    version: 1,
    pid,
    startTime: stat.startTime,
    ...host,
    scope: place.scope,
    workerId: 'w',
    entries,
    ...overrides,
  }
  SupervisorRegistry.open({ place, workerId: 'prepare' })?.close()
  writeFileSync(recordFile(place.dir, pid, stat.startTime), formatRecord(record), { mode: 0o600 })
}

describe.skipIf(!linux)('the supervisor registry', () => {
  it('records each started group with its leader start time, from its start to its close', async () => {
    const registry = SupervisorRegistry.open({ place, workerId: 'w1' })
    expect(registry).not.toBeNull()
    expect(statSync(place.dir).mode & 0o777).toBe(0o700)
    expect(records()).toEqual([expect.objectContaining({ pid: process.pid, workerId: 'w1', entries: [] })])
    const child = spawnDetached({ command: await longScript('a'), cwd: dir, env: {} }, TEST_SPAWNER)
    if (child.pid === null) throw new Error('spawn failed')
    groups.push(child.pid)
    registry?.expect(['step/r/a/1', 'step/r/b/1'])
    await registry?.started('step/r/a/1', child.pid)
    expect(statSync(registry?.file ?? '').mode & 0o777).toBe(0o600)
    expect(records()).toEqual([
      expect.objectContaining({
        pid: process.pid,
        scope: 'db-a',
        workerId: 'w1',
        entries: [
          { lease: 'step/r/a/1', pgid: child.pid, leaderStart: readProcStat(child.pid)?.startTime },
          { lease: 'step/r/b/1', pgid: null, leaderStart: null },
        ],
      }),
    ])
    registry?.ended('step/r/a/1')
    expect(records()[0]?.entries.map((entry) => entry.lease)).toEqual(['step/r/b/1'])
    registry?.ended('step/r/b/1')
    expect(records()).toEqual([expect.objectContaining({ workerId: 'w1', entries: [] })])
    registry?.close()
    expect(readdirSync(place.dir)).toEqual([])
  })

  it('appends one line per change, stays small through many starts and ends, and skips a torn last line', async () => {
    const registry = SupervisorRegistry.open({ place, workerId: 'w' })
    if (registry === null) throw new Error('no registry')
    const start = async (lease: string): Promise<void> => {
      registry.starting(lease)
      await registry.started(lease, process.pid)
    }
    await start('step/r/keep/1')
    // Scripts that end before their group is recorded, all at once, and two that are recorded.
    const quick = Array.from({ length: 1_000 }, (_, i) => `step/r/s${i}/1`)
    const recorded = quick.map((lease) => {
      registry.starting(lease)
      return registry.started(lease, process.pid)
    })
    for (const lease of quick) registry.ended(lease)
    await Promise.all(recorded)
    await start('step/r/last/1')
    const text = readFileSync(registry.file, 'utf8')
    expect(text.split('\n').length).toBeLessThan(200)
    writeFileSync(registry.file, `${text}{"lease":"step/r/torn/1","pg`)
    expect(records()[0]?.entries.map((entry) => entry.lease)).toEqual(['step/r/keep/1', 'step/r/last/1'])
    registry.close()
    expect(readdirSync(place.dir)).toEqual([])
  })

  it('is off, with a reason, in a directory that is not a directory', async () => {
    writeFileSync(place.dir, 'not a directory')
    const problems: string[] = []
    expect(SupervisorRegistry.open({ place, workerId: 'w', onError: (m) => problems.push(m) })).toBeNull()
    expect(problems).toEqual([expect.stringContaining('supervisor registry off')])
  })

  it('neither writes nor acts on records in a directory others can write into, and leaves its mode alone', async () => {
    const supervisorProcess = owner()
    const child = spawnDetached({ command: await longScript('o'), cwd: dir, env: {} }, TEST_SPAWNER)
    if (child.pid === null || supervisorProcess.pid === undefined) throw new Error('spawn failed')
    groups.push(child.pid)
    const [shell] = await pidsOf('o')
    writeRecordOf(supervisorProcess.pid, [
      { lease: 'step/r/o/1', pgid: child.pid, leaderStart: readProcStat(child.pid)?.startTime ?? null },
    ])
    chmodSync(place.dir, 0o777)
    await killAndWait(supervisorProcess)
    const problems: string[] = []
    expect(SupervisorRegistry.open({ place, workerId: 'w', onError: (m) => problems.push(m) })).toBeNull()
    expect(problems).toEqual([expect.stringContaining('open to others (mode 777')])
    expect(await stopDeadSupervisors(place)).toEqual([])
    expect(running(shell ?? 0)).toBe(true)
    expect(statSync(place.dir).mode & 0o777).toBe(0o777)
  })

  it('keeps a Supervisor’s record until each exit report is answered', async () => {
    const registry = SupervisorRegistry.open({ place, workerId: 'w' })
    const reports: ExitReportBody[] = []
    let answer: (() => void) | undefined
    const supervisor = new Supervisor({
      apiBase: 'http://127.0.0.1:9/api/v1',
      workerId: 'w',
      spawner: TEST_SPAWNER,
      registry,
      sinks: {
        exit: async (body) => {
          reports.push(body)
          await new Promise<void>((resolve) => (answer = resolve))
          return { accepted: true }
        },
        heartbeat: async () => ({ lost: [] }),
      },
    })
    const command = path.join(dir, 'quick.sh')
    await writeFile(command, '#!/bin/bash\nexit 0\n')
    await chmod(command, 0o755)
    supervisor.start({ lease: 'step/r/q/1', command, cwd: dir, env: {}, timeoutSeconds: null })
    expect(records()[0]?.entries.map((entry) => entry.lease)).toEqual(['step/r/q/1'])
    await waitFor(() => reports.length === 1)
    expect(records()).toHaveLength(1)
    answer?.()
    await supervisor.idle()
    expect(records()[0]?.entries).toEqual([])
    registry?.close()
  })

  it('leaves a live owner’s groups alone; once the owner is SIGKILLed, kills them and answers its leases', async () => {
    const supervisorProcess = owner()
    const child = spawnDetached({ command: await longScript('b'), cwd: dir, env: {} }, TEST_SPAWNER)
    if (child.pid === null || supervisorProcess.pid === undefined) throw new Error('spawn failed')
    groups.push(child.pid)
    const [shell, background] = await pidsOf('b')
    writeRecordOf(supervisorProcess.pid, [
      { lease: 'step/r/b/1', pgid: child.pid, leaderStart: readProcStat(child.pid)?.startTime ?? null },
      { lease: 'step/r/c/1', pgid: null, leaderStart: null },
    ])

    expect(await stopDeadSupervisors(place)).toEqual([])
    expect([running(shell ?? 0), running(background ?? 0)]).toEqual([true, true])

    await killAndWait(supervisorProcess)
    const dead = await stopDeadSupervisors(place)
    expect(dead).toEqual([
      expect.objectContaining({ workerId: 'w', leases: ['step/r/b/1', 'step/r/c/1'], killed: 1 }),
    ])
    // Gone, background child included, by the time the answer comes: no wait-until here.
    expect([running(shell ?? 0), running(background ?? 0)]).toEqual([false, false])
    // The record stays until the caller has handed the leases back.
    expect(records()).toHaveLength(1)
  })

  it('finds a script whose start was never recorded (its supervisor died during the spawn) by its MAXQ_LEASE', async () => {
    const supervisorProcess = owner()
    if (supervisorProcess.pid === undefined) throw new Error('spawn failed')
    // A Supervisor without a registry marks its script as every Supervisor does; the record below
    // is what a supervisor killed during that spawn leaves: the entry written before it, alone.
    const supervisor = new Supervisor({
      apiBase: 'http://127.0.0.1:9/api/v1',
      workerId: 'w',
      spawner: TEST_SPAWNER,
      sinks: { exit: async () => ({ accepted: true }), heartbeat: async () => ({ lost: [] }) },
    })
    supervisor.start({
      lease: 'step/r/f/1',
      command: await longScript('f'),
      cwd: dir,
      env: {},
      timeoutSeconds: null,
    })
    const [shell, background] = await pidsOf('f')
    groups.push(shell ?? 0)
    expect(readFileSync(`/proc/${shell}/environ`, 'utf8').split('\0')).toContain('MAXQ_LEASE=step/r/f/1')
    writeRecordOf(supervisorProcess.pid, [
      { lease: 'step/r/f/1', pgid: null, leaderStart: null },
      { lease: 'step/r/never-started/1', pgid: null, leaderStart: null },
    ])
    await killAndWait(supervisorProcess)
    expect(await stopDeadSupervisors(place)).toEqual([
      expect.objectContaining({ leases: ['step/r/f/1', 'step/r/never-started/1'], killed: 1 }),
    ])
    expect([running(shell ?? 0), running(background ?? 0)]).toEqual([false, false])
    await supervisor.idle()
  })

  it('names the dead owner’s worker for its claims, unless a live record works under the same id', async () => {
    const first = owner()
    const second = owner()
    if (first.pid === undefined || second.pid === undefined) throw new Error('spawn failed')
    writeRecordOf(first.pid, [], { workerId: 'alone' })
    writeRecordOf(second.pid, [], { workerId: 'shared' })
    const live = SupervisorRegistry.open({ place, workerId: 'shared' })
    await killAndWait(first)
    await killAndWait(second)
    const dead = await stopDeadSupervisors(place)
    expect(dead.map((d) => [d.workerId, d.worker]).sort()).toEqual([
      ['alone', 'alone'],
      ['shared', null],
    ])
    live?.close()
  })

  it('never signals a group whose leader is another process now (a reused pid)', async () => {
    const supervisorProcess = owner()
    const stranger = spawnDetached({ command: await longScript('c'), cwd: dir, env: {} }, TEST_SPAWNER)
    if (stranger.pid === null || supervisorProcess.pid === undefined) throw new Error('spawn failed')
    groups.push(stranger.pid)
    const [shell] = await pidsOf('c')
    writeRecordOf(supervisorProcess.pid, [{ lease: 'step/r/c/1', pgid: stranger.pid, leaderStart: '1' }])
    await killAndWait(supervisorProcess)
    expect(await stopDeadSupervisors(place)).toEqual([
      expect.objectContaining({ leases: ['step/r/c/1'], killed: 0 }),
    ])
    expect(running(shell ?? 0)).toBe(true)
  })

  it('kills the groups of another database’s dead supervisor but leaves its leases to that database', async () => {
    const supervisorProcess = owner()
    const child = spawnDetached({ command: await longScript('d'), cwd: dir, env: {} }, TEST_SPAWNER)
    if (child.pid === null || supervisorProcess.pid === undefined) throw new Error('spawn failed')
    groups.push(child.pid)
    const [shell, background] = await pidsOf('d')
    writeRecordOf(
      supervisorProcess.pid,
      [{ lease: 'step/r/d/1', pgid: child.pid, leaderStart: readProcStat(child.pid)?.startTime ?? null }],
      { scope: 'db-b' },
    )
    await killAndWait(supervisorProcess)
    expect(await stopDeadSupervisors(place)).toEqual([])
    expect([running(shell ?? 0), running(background ?? 0)]).toEqual([false, false])
    expect(await stopDeadSupervisors({ ...place, scope: 'db-b' })).toEqual([
      expect.objectContaining({ leases: ['step/r/d/1'], killed: 0 }),
    ])
  })

  it('answers the leases of a record from an earlier boot without signalling anything', async () => {
    const supervisorProcess = owner()
    if (supervisorProcess.pid === undefined) throw new Error('spawn failed')
    writeRecordOf(supervisorProcess.pid, [{ lease: 'step/r/e/1', pgid: process.pid, leaderStart: null }], {
      bootId: 'another-boot',
    })
    await killAndWait(supervisorProcess)
    expect(await stopDeadSupervisors(place)).toEqual([
      expect.objectContaining({ leases: ['step/r/e/1'], killed: 0 }),
    ])
  })

  it.skipIf(!built)(
    'a detached supervisor SIGKILLed: its script and the script’s background child are stopped',
    async () => {
      const pid = launchSupervisor({
        apiBase: 'http://127.0.0.1:9/api/v1',
        workerId: 'detached',
        graceMs: 100,
        spawner: TEST_SPAWNER,
        registry: place,
        jobs: [
          { lease: 'step/r/f/1', command: await longScript('f'), cwd: dir, env: {}, timeoutSeconds: null },
        ],
      })
      const [shell, background] = await pidsOf('f')
      if (shell !== undefined) groups.push(shell)
      await waitFor(() => records()[0]?.entries[0]?.pgid === shell, { message: 'no record of the script' })
      expect(await stopDeadSupervisors(place)).toEqual([])
      process.kill(pid, 'SIGKILL')
      await waitFor(() => !running(pid), { message: 'the supervisor did not die' })
      expect(await stopDeadSupervisors(place)).toEqual([
        expect.objectContaining({ workerId: 'detached', leases: ['step/r/f/1'], killed: 1 }),
      ])
      expect([running(shell ?? 0), running(background ?? 0)]).toEqual([false, false])
    },
  )
})
