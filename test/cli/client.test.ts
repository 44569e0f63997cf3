// The `maxq` client subcommands against a real server: what a person and a script see, exit codes,
// help without side effects, errors that name the URL, and live progress under a pseudo-terminal.

import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testDatabases } from '../support/dialects.js'
import { cleanEnv, freePort, PACKAGE_ROOT } from '../support/start-server.js'
import { probe, stage, startE2eServer, type E2eServer } from '../e2e/e2e-server.js'

interface Result {
  code: number | null
  stdout: string
  stderr: string
}

function maxq(args: string[], env: Record<string, string>, viaTerminal = false): Promise<Result> {
  // `script` (util-linux) gives the command a pseudo-terminal: its stdout is a TTY.
  const [command, argv] = viaTerminal
    ? ['script', ['-qfec', ['node', 'bin/maxq.js', ...args].map((a) => `'${a}'`).join(' '), '/dev/null']]
    : [process.execPath, ['bin/maxq.js', ...args]]
  return new Promise((resolve, reject) => {
    const child = spawn(command as string, argv as string[], {
      cwd: PACKAGE_ROOT,
      env: { ...cleanEnv(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.once('error', reject)
    child.once('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

const CLIENT_COMMANDS = [
  'flows',
  'run',
  'runs',
  'show',
  'logs',
  'watch',
  'abort',
  'retry',
  'pause',
  'resume',
  'prune',
  'trigger',
]
const SERVER_COMMANDS = ['serve', 'tick', 'start', 'migrate', 'completion']

describe('maxq without a server', () => {
  it('prints help for every subcommand, exits 0 and calls nothing', async () => {
    // Nothing listens on this port: a request would fail the command.
    const env = { MAXQ_URL: `http://127.0.0.1:${await freePort()}`, MAXQ_FLOWS_ROOT: '/nonexistent' }
    for (const command of [...CLIENT_COMMANDS, ...SERVER_COMMANDS]) {
      const result = await maxq([command, '--help'], env)
      expect({ command, code: result.code, stderr: result.stderr }).toEqual({ command, code: 0, stderr: '' })
      expect(result.stdout).toMatch(new RegExp(`usage: maxq ${command}`))
    }
    const top = await maxq(['--help'], env)
    expect(top.code).toBe(0)
    for (const command of CLIENT_COMMANDS) expect(top.stdout).toContain(command)
    expect((await maxq(['--version'], env)).stdout).toMatch(/^maxq \d+\.\d+\.\d+\n$/)
    expect((await maxq(['completion', 'bash'], env)).stdout).toContain('complete -F _maxq maxq')
  })

  it('names the URL and the reason when the server cannot be reached', async () => {
    const url = `http://127.0.0.1:${await freePort()}`
    const result = await maxq(['runs'], { MAXQ_URL: url })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(`${url}/api/v1/runs`)
    expect(result.stderr).toContain('connection refused')
  })
})

describe('maxq against a server', () => {
  let e2e: E2eServer
  let env: Record<string, string>

  beforeAll(async () => {
    e2e = await startE2eServer(testDatabases[0]!)
    env = { MAXQ_URL: e2e.server.baseUrl }
  })

  afterAll(async () => {
    await e2e?.close()
  })

  const input = (calls: unknown) => JSON.stringify({ calls })

  it('follows a run to completion, one line per change when piped, and exits 0', async () => {
    const calls = {
      start: { post: [stage('one', false, [probe('a'), probe('b')])] },
      'completed:one': { post: [stage('two', true, [probe('c', { dependsOn: ['a'] })])] },
    }
    const result = await maxq(['run', 'scripted', '--input', input(calls), '--follow'], env)
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/started run \S+ of scripted/)
    expect(result.stdout).toMatch(/✓ one 2\/2/)
    expect(result.stdout).toMatch(/✓ two \(final\) 1\/1/)
    expect(result.stdout).toMatch(/: completed/)
    expect(result.stdout).not.toContain('\x1b[')
  })

  it('shows a failure with its exit code and stderr, and exits 1', async () => {
    const calls = { start: { post: [stage('one', true, [probe('bad', { env: { EXIT: '3' } })])] } }
    const result = await maxq(['run', 'scripted', '--input', input(calls), '--follow'], env)
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/✗ bad: exit 3/)
    expect(result.stdout).toContain('probe bad stderr line')
    const runId = /started run (\S+)/.exec(result.stdout)?.[1] ?? ''
    const shown = await maxq(['show', runId], env)
    expect(shown.stdout).toMatch(/✗ bad \(probe\)\s+failed\s+attempt 1\/1\s+exit 3/)
    const json = JSON.parse((await maxq(['show', runId, '--json'], env)).stdout) as { status: string }
    expect(json.status).toBe('failed')
  })

  it('redraws the progress in place on a terminal', async () => {
    const calls = { start: { post: [stage('one', true, [probe('h', { env: { SLEEP: '1' } })])] } }
    const result = await maxq(['run', 'scripted', '--input', input(calls), '--follow'], env, true)
    expect(result.code, result.stdout).toBe(0)
    expect(result.stdout).toContain('\x1b[') // cursor up, clear: the picture was redrawn
    expect(result.stdout).toMatch(/running: h/)
  })

  it('lists runs, logs and step output for people and for scripts', async () => {
    const calls = { start: { post: [stage('one', true, [probe('x', { env: { LOG: 'hello log' } })])] } }
    const started = await maxq(['run', 'scripted', '--input', input(calls), '--json'], env)
    const run = JSON.parse(started.stdout) as { id: string }
    await e2e.waitForRun(run.id, ['completed'])
    const listed = JSON.parse((await maxq(['runs', '--json', '--flow', 'scripted'], env)).stdout) as {
      runs: Array<{ id: string }>
    }
    expect(listed.runs.map((r) => r.id)).toContain(run.id)
    expect((await maxq(['runs', '--limit', '5'], env)).stdout).toMatch(/^RUN\s+FLOW\s+STATUS/)
    expect((await maxq(['logs', run.id], env)).stdout).toContain('WARN  step x: hello log')
    expect((await maxq(['logs', run.id, '--step', 'x'], env)).stdout).toContain('probe x attempt 1')
    const bad = await maxq(['show', 'no-such-run'], env)
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('404 RUN_NOT_FOUND')
  })

  // Last: it deletes the finished runs of the tests above.
  it('prunes finished runs: --dry-run lists them and deletes nothing, then prune deletes them', async () => {
    const calls = { start: { post: [stage('one', true, [probe('p')])] } }
    const ids: string[] = []
    for (let i = 0; i < 2; i++) {
      const started = await maxq(['run', 'scripted', '--input', input(calls), '--json'], env)
      ids.push((JSON.parse(started.stdout) as { id: string }).id)
    }
    for (const id of ids) await e2e.waitForRun(id, ['completed'])

    const bad = await maxq(['prune', '--older-than', '30 days'], env)
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('--older-than must be a number and a unit, e.g. 30d')
    const missing = await maxq(['prune', '--dry-run'], env)
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('--older-than is required, e.g. maxq prune --older-than 30d --dry-run')
    const recent = await maxq(['prune', '--older-than', '1d', '--json'], env)
    expect(JSON.parse(recent.stdout)).toMatchObject({ deleted: 0, runIds: [] })

    const dry = await maxq(['prune', '--older-than', '0s', '--flow', 'scripted', '--dry-run'], env)
    expect(dry.code, dry.stderr).toBe(0)
    expect(dry.stdout).toMatch(/would delete \d+ finished run\(s\) that ended before /)
    for (const id of ids) expect(dry.stdout).toContain(id)
    expect((await maxq(['show', ids[0]!], env)).code).toBe(0)

    const pruned = await maxq(['prune', '--older-than', '0s', '--json'], env)
    expect(pruned.code, pruned.stderr).toBe(0)
    const answer = JSON.parse(pruned.stdout) as { deleted: number; runIds: string[] }
    expect(answer.runIds).toEqual(expect.arrayContaining(ids))
    expect(answer.deleted).toBe(answer.runIds.length)
    const gone = await maxq(['show', ids[1]!], env)
    expect(gone.stderr).toContain('404 RUN_NOT_FOUND')
    expect((await maxq(['prune', '--older-than', '0s'], env)).stdout).toMatch(/^deleted 0 finished run/)
  })
})
