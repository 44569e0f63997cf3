import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { http, HttpResponse } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { MAX_CAPTURED_OUTPUT_BYTES } from '../../runtime/limits.js'
import type { ExitReportBody, HeartbeatBody, ProcessJob } from '../../runtime/process-job.js'
import type { Spawner } from '../../runtime/spawn-detached.js'
import { Supervisor } from '../../runtime/supervise.js'
import { supervisorMain } from '../../runtime/supervisor-main.js'
import { skipUnlessSpawnerWorks, TEST_SPAWNER } from '../support/spawner.js'
import { waitFor } from '../support/wait-for.js'

const apiBase = 'http://maxq.test/api/v1'
const server = setupServer()
const reports = new Map<string, ExitReportBody>()
const heartbeats: HeartbeatBody[] = []
let lost = new Set<string>()

let dir: string
const spawners: Spawner[] = ['posix_spawn', 'child_process']
let spawner: Spawner = TEST_SPAWNER
const supervisors: Supervisor[] = []
const groups: number[] = []

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterAll(() => server.close())

beforeEach(async () => {
  dir = realpathSync(await mkdtemp(path.join(tmpdir(), 'maxq-supervise-')))
  reports.clear()
  heartbeats.length = 0
  lost = new Set()
  server.use(
    http.post(`${apiBase}/leases/exit`, async ({ request }) => {
      const body = (await request.json()) as ExitReportBody
      reports.set(body.lease, body)
      return HttpResponse.json({ accepted: true })
    }),
    http.post(`${apiBase}/leases/heartbeat`, async ({ request }) => {
      const body = (await request.json()) as HeartbeatBody
      heartbeats.push(body)
      return HttpResponse.json({ lost: body.leases.filter((lease) => lost.has(lease)) })
    }),
  )
})

afterEach(async () => {
  for (const supervisor of supervisors.splice(0)) supervisor.stop()
  for (const pgid of groups.splice(0)) {
    try {
      process.kill(-pgid, 'SIGKILL')
    } catch {
      // already gone, as it should be
    }
  }
  server.resetHandlers()
  vi.restoreAllMocks()
  await rm(dir, { recursive: true, force: true })
})

function supervisor(opts: Partial<ConstructorParameters<typeof Supervisor>[0]> = {}): Supervisor {
  const created = new Supervisor({ apiBase, workerId: 'test-worker', graceMs: 200, spawner, ...opts })
  supervisors.push(created)
  return created
}

let counter = 0
async function job(body: string, extra: Partial<ProcessJob> = {}): Promise<ProcessJob> {
  counter++
  const command = path.join(dir, `script-${counter}.sh`)
  await writeFile(command, `#!/bin/bash\n${body}\n`)
  await chmod(command, 0o755)
  return {
    lease: `step/run/s${counter}/1`,
    command,
    cwd: dir,
    env: { PATH: process.env.PATH ?? '' },
    timeoutSeconds: null,
    ...extra,
  }
}

async function run(sup: Supervisor, processJob: ProcessJob): Promise<ExitReportBody> {
  sup.start(processJob)
  await sup.idle()
  const report = reports.get(processJob.lease)
  if (report === undefined) throw new Error(`no report for ${processJob.lease}`)
  return report
}

/** Reads a pid the script wrote, and remembers its group for cleanup. */
async function pidFrom(file: string): Promise<number> {
  const pid = await waitFor(
    async () => (existsSync(file) ? Number((await readFile(file, 'utf8')).trim()) : 0),
    {
      message: `no pid in ${file}`,
    },
  )
  groups.push(pid)
  return pid
}

/** State letter of a process from /proc; a zombie (Z) is dead for our purposes, as PID 1 may not reap it. */
function processState(pid: number): { state: string; pgrp: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return { state: fields[0] ?? '', pgrp: Number(fields[2]) }
  } catch {
    return null
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  const info = processState(pid)
  return info !== null && info.state !== 'Z' && info.state !== 'X'
}

/**
 * A signalled process ends when the kernel next schedules it, which on a busy machine can be a
 * moment after the report: wait for that (the sleeps here would otherwise run for 100 s).
 */
async function expectGone(stillThere: () => boolean, what: string): Promise<void> {
  await waitFor(() => !stillThere(), { timeoutMs: 5_000, message: `${what} is still running` })
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0)
  } catch {
    return false
  }
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .some((name) => {
      const info = processState(Number(name))
      return info !== null && info.pgrp === pgid && info.state !== 'Z' && info.state !== 'X'
    })
}

describe.each(spawners)('Supervisor starting scripts with %s', (chosen) => {
  beforeEach((context) => {
    skipUnlessSpawnerWorks(context, chosen)
    spawner = chosen
  })

  it('reports exit codes and captures stdout and stderr', async () => {
    const sup = supervisor()
    const ok = await job('echo out; echo err >&2; exit 0')
    const failed = await job('echo partial; exit 3')
    sup.start(ok)
    sup.start(failed)
    expect(sup.running).toBe(2)
    await sup.idle()
    expect(sup.running).toBe(0)
    expect(reports.get(ok.lease)).toMatchObject({
      lease: ok.lease,
      exitCode: 0,
      signal: null,
      timedOut: false,
      stdout: 'out\n',
      stderr: 'err\n',
    })
    expect(reports.get(failed.lease)).toMatchObject({ exitCode: 3, stdout: 'partial\n', stderr: '' })
    expect(typeof reports.get(ok.lease)?.startedAt).toBe('number')
  })

  it('calls onExit once per job, after its report', async () => {
    const exits: string[] = []
    const sup = supervisor({ onExit: (lease) => exits.push(lease) })
    const one = await job('exit 0')
    sup.start(one)
    await sup.idle()
    expect(exits).toEqual([one.lease])
    expect(reports.has(one.lease)).toBe(true)
  })

  it('bounds captured output of a chatty script', async () => {
    const sup = supervisor()
    const report = await run(
      sup,
      await job("head -c 50000000 /dev/zero | tr '\\0' a; echo END; head -c 3000000 /dev/zero >&2"),
    )
    expect(report.exitCode).toBe(0)
    expect(Buffer.byteLength(report.stdout)).toBeLessThanOrEqual(MAX_CAPTURED_OUTPUT_BYTES + 100)
    expect(report.stdout.startsWith('aaaa')).toBe(true)
    expect(report.stdout.endsWith('aaaEND\n')).toBe(true)
    expect(report.stdout).toMatch(/…\[maxq: \d+ bytes omitted\]…/)
    const omitted = Number(/(\d+) bytes omitted/.exec(report.stdout)?.[1])
    expect(omitted).toBe(50_000_004 - MAX_CAPTURED_OUTPUT_BYTES)
    expect(Buffer.byteLength(report.stderr)).toBeLessThanOrEqual(MAX_CAPTURED_OUTPUT_BYTES + 100)
  })

  it('runs the script in its cwd with exactly the given environment', async () => {
    const sup = supervisor()
    const processJob = await job(
      'printf "%s|%s|%s|%s" "$(pwd -P)" "$SHARD" "${MAXQ_RUN_ID:-}" "${HOME:-unset}"',
      {
        env: { PATH: process.env.PATH ?? '', SHARD: '7', MAXQ_RUN_ID: 'run-9' },
      },
    )
    const report = await run(sup, processJob)
    expect(report.stdout).toBe(`${dir}|7|run-9|unset`)
  })

  it('kills the whole process group on timeout and reports timedOut', async () => {
    const sup = supervisor()
    const processJob = await job('echo $$ > self.pid; sleep 100 & echo $! > bg.pid; sleep 100', {
      timeoutSeconds: 1,
    })
    sup.start(processJob)
    const pgid = await pidFrom(path.join(dir, 'self.pid'))
    const bg = await pidFrom(path.join(dir, 'bg.pid'))
    await sup.idle()
    expect(reports.get(processJob.lease)).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGTERM' })
    await expectGone(() => isAlive(bg), 'the background sleep')
    await expectGone(() => groupAlive(pgid), 'the process group')
  })

  it('escalates to SIGKILL when the script ignores SIGTERM', async () => {
    const sup = supervisor({ graceMs: 100 })
    const processJob = await job("trap '' TERM; echo $$ > self.pid; sleep 100", { timeoutSeconds: 1 })
    sup.start(processJob)
    const pgid = await pidFrom(path.join(dir, 'self.pid'))
    await sup.idle()
    expect(reports.get(processJob.lease)).toMatchObject({ timedOut: true, signal: 'SIGKILL' })
    await expectGone(() => groupAlive(pgid), 'the process group')
  })

  it('terminates the process group of a lease the API says is lost', async () => {
    const sup = supervisor()
    const keep = await job('sleep 100')
    const lose = await job('echo $$ > lose.pid; sleep 100 & sleep 100')
    sup.start(keep)
    sup.start(lose)
    const pgid = await pidFrom(path.join(dir, 'lose.pid'))
    lost.add(lose.lease)
    await sup.checkLeases()
    expect(heartbeats.at(-1)).toEqual({ workerId: 'test-worker', leases: [keep.lease, lose.lease] })
    await waitFor(() => reports.get(lose.lease), { message: 'lost lease was not reported' })
    expect(reports.get(lose.lease)).toMatchObject({ signal: 'SIGTERM', timedOut: false })
    await expectGone(() => groupAlive(pgid), "the lost lease's process group")
    expect(sup.running).toBe(1)
    lost.add(keep.lease)
    await sup.checkLeases()
    await sup.idle()
  })

  it('heartbeats running leases on its interval', async () => {
    const sup = supervisor({ heartbeatMs: 20 })
    const processJob = await job('echo $$ > hb.pid; sleep 100')
    sup.start(processJob)
    await pidFrom(path.join(dir, 'hb.pid'))
    await waitFor(() => heartbeats.some((h) => h.leases.includes(processJob.lease)), {
      message: 'no heartbeat',
    })
    lost.add(processJob.lease)
    await sup.idle()
    expect(reports.get(processJob.lease)?.signal).toBe('SIGTERM')
  })

  it('cleans up background children after the script exits', async () => {
    const sup = supervisor()
    const report = await run(
      sup,
      await job(
        'echo $$ > self.pid; sleep 100 & echo $! > piped.pid; nohup sleep 100 >/dev/null 2>&1 & echo $! > detached.pid; echo done',
      ),
    )
    expect(report).toMatchObject({ exitCode: 0, stdout: 'done\n' })
    const pgid = await pidFrom(path.join(dir, 'self.pid'))
    const piped = await pidFrom(path.join(dir, 'piped.pid'))
    const detached = await pidFrom(path.join(dir, 'detached.pid'))
    await expectGone(() => isAlive(piped), 'the piped background sleep')
    await expectGone(() => isAlive(detached), 'the nohup background sleep')
    await expectGone(() => groupAlive(pgid), 'the process group')
  })

  it('reports 126 for a script that is not executable and 127 for a missing one', async () => {
    const sup = supervisor()
    const notExecutable = await job('echo never')
    await chmod(notExecutable.command, 0o644)
    const missing: ProcessJob = {
      ...(await job('')),
      lease: 'step/run/missing/1',
      command: path.join(dir, 'nope.sh'),
    }
    sup.start(notExecutable)
    sup.start(missing)
    await sup.idle()
    expect(reports.get(notExecutable.lease)).toMatchObject({ exitCode: 126, signal: null, stdout: '' })
    expect(reports.get(notExecutable.lease)?.stderr).toContain('EACCES')
    expect(reports.get(missing.lease)).toMatchObject({ exitCode: 127, signal: null })
    expect(reports.get(missing.lease)?.stderr).toContain('ENOENT')
  })

  it('keeps retrying a report until the API takes it', async () => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    let failures = 2
    server.use(
      http.post(`${apiBase}/leases/exit`, async ({ request }) => {
        if (failures-- > 0) return new HttpResponse(null, { status: 503 })
        const body = (await request.json()) as ExitReportBody
        reports.set(body.lease, body)
        return HttpResponse.json({ accepted: true })
      }),
    )
    const sup = supervisor()
    const report = await run(sup, await job('exit 4'))
    expect(report.exitCode).toBe(4)
  })

  it('uses the fetch it is given instead of the network', async () => {
    const seen: string[] = []
    const sup = supervisor({
      fetch: (input, init) => {
        seen.push(`${init.method ?? 'GET'} ${input}`)
        return new Response(JSON.stringify({ accepted: true }), {
          headers: { 'content-type': 'application/json' },
        })
      },
    })
    sup.start(await job('exit 0'))
    await sup.idle()
    expect(seen).toEqual([`POST ${apiBase}/leases/exit`])
  })
})

describe('supervisorMain', () => {
  it('runs the jobs of its file, deletes the file and returns once all are reported', async () => {
    const one = await job('echo one')
    const two = await job('exit 2')
    const jobsFile = path.join(dir, 'jobs.json')
    await writeFile(
      jobsFile,
      JSON.stringify({ apiBase, workerId: 'w', graceMs: 100, spawner: TEST_SPAWNER, jobs: [one, two] }),
      {
        mode: 0o600,
      },
    )
    expect(await supervisorMain(jobsFile)).toBe(0)
    expect(existsSync(jobsFile)).toBe(false)
    expect(reports.get(one.lease)).toMatchObject({ exitCode: 0, stdout: 'one\n' })
    expect(reports.get(two.lease)).toMatchObject({ exitCode: 2 })
  })

  it('fails on an unreadable jobs file', async () => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    const jobsFile = path.join(dir, 'bad.json')
    await writeFile(jobsFile, '{"apiBase": 1}')
    expect(await supervisorMain(jobsFile)).toBe(1)
  })
})
