// Both ways of starting a script must give it the same world: its own session and process group,
// stdin from /dev/null, default signal dispositions, exactly the given environment and cwd.

import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { realpathSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { resolveSpawner, spawnDetached, type Spawner } from '../../runtime/spawn-detached.js'
import { NATIVE_SKIP_NOTE, skipUnlessSpawnerWorks, skipWithoutNative } from '../support/spawner.js'

let dir: string

beforeEach(async () => {
  dir = realpathSync(await mkdtemp(path.join(tmpdir(), 'maxq-spawn-')))
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function script(body: string, name = 'step.sh'): Promise<string> {
  const file = path.join(dir, name)
  await writeFile(file, `#!/bin/bash\n${body}\n`)
  await chmod(file, 0o755)
  return file
}

function collect(stream: Readable | null): () => string {
  const chunks: Buffer[] = []
  stream?.on('data', (chunk: Buffer) => chunks.push(chunk))
  return () => Buffer.concat(chunks).toString('utf8')
}

async function runScript(spawner: Spawner, command: string, env: Record<string, string> = {}, cwd = dir) {
  const child = spawnDetached({ command, cwd, env: { PATH: process.env.PATH ?? '', ...env } }, spawner)
  const stdout = collect(child.stdout)
  const stderr = collect(child.stderr)
  const exit = await child.exited
  await child.closed
  return { pid: child.pid, exit, stdout: stdout(), stderr: stderr() }
}

describe('resolveSpawner', () => {
  it('uses the posix_spawn addon when it is built, and child_process on request', (context) => {
    skipWithoutNative(context)
    expect(resolveSpawner('auto')).toBe('posix_spawn')
    expect(resolveSpawner('posix_spawn')).toBe('posix_spawn')
    expect(resolveSpawner('child_process')).toBe('child_process')
  })

  it.runIf(NATIVE_SKIP_NOTE !== null)('falls back to child_process where the addon cannot load', () => {
    expect(resolveSpawner('auto')).toBe('child_process')
    expect(resolveSpawner('child_process')).toBe('child_process')
    expect(() => resolveSpawner('posix_spawn')).toThrow(/cannot load/)
  })
})

describe.each(['posix_spawn', 'child_process'] as const)('spawnDetached with %s', (spawner) => {
  beforeEach((context) => skipUnlessSpawnerWorks(context, spawner))

  it('runs the script in its cwd with exactly the given environment, as its own session leader', async () => {
    const command = await script(
      [
        'read -r -a stat < /proc/$$/stat',
        'echo "pid=$$ pgrp=${stat[4]} session=${stat[5]}"',
        'echo "cwd=$PWD greeting=$GREETING home=${HOME-unset}"',
      ].join('\n'),
    )
    const { pid, exit, stdout } = await runScript(spawner, command, { GREETING: 'hi there' })
    expect(exit).toEqual({ code: 0, signal: null, spawnError: null })
    expect(stdout).toBe(`pid=${pid} pgrp=${pid} session=${pid}\ncwd=${dir} greeting=hi there home=unset\n`)
  })

  it('gives the script /dev/null as stdin and default signal dispositions', async () => {
    // Node ignores SIGPIPE; a script must not inherit that, or `yes | head -1` never ends quietly.
    const command = await script(
      [
        'echo "stdin=$(readlink /proc/$$/fd/0)"',
        'read -r line; echo "read=$?"',
        'yes | head -n 1; echo "yes=${PIPESTATUS[0]}"',
      ].join('\n'),
    )
    const { exit, stdout, stderr } = await runScript(spawner, command)
    expect(exit.code).toBe(0)
    expect(stdout).toBe('stdin=/dev/null\nread=1\ny\nyes=141\n')
    expect(stderr).toBe('')
  })

  it('reports the exit code, or the signal that ended the script', async () => {
    expect((await runScript(spawner, await script('echo out; echo err >&2; exit 7'))).exit.code).toBe(7)
    const killed = await runScript(spawner, await script('kill -TERM $$', 'killed.sh'))
    expect(killed.exit).toEqual({ code: null, signal: 'SIGTERM', spawnError: null })
  })

  it('passes a large output through whole', async () => {
    const { stdout } = await runScript(spawner, await script('head -c 3000000 /dev/zero | tr "\\0" x'))
    expect(stdout.length).toBe(3_000_000)
  })

  it('answers 127 for a missing script or cwd and 126 for one it cannot execute', async () => {
    const missing = await runScript(spawner, path.join(dir, 'missing.sh'))
    expect(missing.pid).toBeNull()
    expect(missing.exit.code).toBe(127)
    expect(missing.exit.spawnError).toContain('ENOENT')

    const noCwd = await runScript(spawner, await script('exit 0'), {}, path.join(dir, 'gone'))
    expect(noCwd.exit.code).toBe(127)

    const plain = path.join(dir, 'plain.sh')
    await writeFile(plain, '#!/bin/bash\nexit 0\n')
    const notExecutable = await runScript(spawner, plain)
    expect(notExecutable.exit.code).toBe(126)
    expect(notExecutable.exit.spawnError).toContain('EACCES')
  })

  it('collects every exit when many scripts end at once', async () => {
    const command = await script('echo "$N"')
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, n) => runScript(spawner, command, { N: String(n) })),
    )
    expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 40 }, (_, n) => `${n}\n`))
    expect(results.every((r) => r.exit.code === 0)).toBe(true)
  })
})
