import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { discoverFlows, findFlow, missingStepScripts } from '../../runtime/discover-flows.js'
import { isSafeName } from '../../runtime/safe-name.js'

let dir: string
let root: string

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'maxq-discover-'))
  root = path.join(dir, 'flows')
  await mkdir(root)
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function script(file: string, mode = 0o755): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true })
  await writeFile(file, '#!/bin/bash\nexit 0\n')
  await chmod(file, mode)
}

describe('isSafeName', () => {
  it('accepts plain names and rejects anything that could leave a directory', () => {
    expect(isSafeName('hello_world-2')).toBe(true)
    for (const bad of ['', '.', '..', 'a/b', '../x', 'a b', 'a.sh', 'é', 'x'.repeat(129)]) {
      expect(isSafeName(bad), bad).toBe(false)
    }
    expect(isSafeName('x'.repeat(128))).toBe(true)
  })
})

describe('discoverFlows', () => {
  it('returns [] for a missing root', async () => {
    expect(await discoverFlows(path.join(dir, 'nope'))).toEqual([])
  })

  it('lists flows with executable flow.sh and their executable steps, sorted', async () => {
    await script(path.join(root, 'zeta', 'flow.sh'))
    await script(path.join(root, 'alpha', 'flow.sh'))
    await script(path.join(root, 'alpha', 'steps', 'b', 'step.sh'))
    await script(path.join(root, 'alpha', 'steps', 'a', 'step.sh'))
    await script(path.join(root, 'alpha', 'steps', 'not-exec', 'step.sh'), 0o644)
    await mkdir(path.join(root, 'alpha', 'steps', 'empty'), { recursive: true })
    await mkdir(path.join(root, 'alpha', 'steps', 'dir-script', 'step.sh'), { recursive: true })
    await script(path.join(root, 'no-exec', 'flow.sh'), 0o644)
    await mkdir(path.join(root, 'no-script'))
    await script(path.join(root, 'bad.name', 'flow.sh'))
    await writeFile(path.join(root, 'file.txt'), 'x')

    const flows = await discoverFlows(root)
    expect(flows).toEqual([
      {
        name: 'alpha',
        path: path.join(root, 'alpha'),
        flowScript: path.join(root, 'alpha', 'flow.sh'),
        steps: ['a', 'b'],
      },
      {
        name: 'zeta',
        path: path.join(root, 'zeta'),
        flowScript: path.join(root, 'zeta', 'flow.sh'),
        steps: [],
      },
    ])
  })

  it('follows symlinks that stay inside the root and ignores those that leave it', async () => {
    await script(path.join(root, 'real', 'flow.sh'))
    await symlink(path.join(root, 'real'), path.join(root, 'linked'))
    await script(path.join(dir, 'outside', 'flow.sh'))
    await symlink(path.join(dir, 'outside'), path.join(root, 'escape'))
    await script(path.join(dir, 'outside-step', 'step.sh'))
    await mkdir(path.join(root, 'real', 'steps'))
    await symlink(path.join(dir, 'outside-step'), path.join(root, 'real', 'steps', 'sneaky'))

    const flows = await discoverFlows(root)
    expect(flows.map((f) => f.name)).toEqual(['linked', 'real'])
    expect(flows[1]?.steps).toEqual([])
  })

  it('accepts a root that is itself a symlink', async () => {
    await script(path.join(root, 'one', 'flow.sh'))
    const link = path.join(dir, 'root-link')
    await symlink(root, link)
    expect((await discoverFlows(link)).map((f) => f.path)).toEqual([path.join(link, 'one')])
  })
})

describe('findFlow', () => {
  it('finds one flow with its steps', async () => {
    await script(path.join(root, 'hello', 'flow.sh'))
    await script(path.join(root, 'hello', 'steps', 'greet', 'step.sh'))
    expect(await findFlow(root, 'hello')).toEqual({
      name: 'hello',
      path: path.join(root, 'hello'),
      flowScript: path.join(root, 'hello', 'flow.sh'),
      steps: ['greet'],
    })
  })

  it('returns null for unsafe names, missing and non-executable flows', async () => {
    await script(path.join(root, 'plain', 'flow.sh'), 0o600)
    await script(path.join(dir, 'secret', 'flow.sh'))
    expect(await findFlow(root, '../secret')).toBeNull()
    expect(await findFlow(root, '..')).toBeNull()
    expect(await findFlow(root, 'missing')).toBeNull()
    expect(await findFlow(root, 'plain')).toBeNull()
    expect(await findFlow(path.join(dir, 'no-root'), 'plain')).toBeNull()
  })
})

describe('missingStepScripts', () => {
  it('answers, once each, the named steps without an executable step.sh inside the root', async () => {
    await script(path.join(root, 'hello', 'flow.sh'))
    await script(path.join(root, 'hello', 'steps', 'greet', 'step.sh'))
    await script(path.join(root, 'hello', 'steps', 'plain', 'step.sh'), 0o644)
    await mkdir(path.join(root, 'hello', 'steps', 'dir-script', 'step.sh'), { recursive: true })
    await script(path.join(dir, 'outside-step', 'step.sh'))
    await symlink(path.join(dir, 'outside-step'), path.join(root, 'hello', 'steps', 'sneaky'))
    await script(path.join(root, 'other', 'steps', 'shared', 'step.sh'))
    await symlink(path.join(root, 'other', 'steps', 'shared'), path.join(root, 'hello', 'steps', 'linked'))

    const names = ['greet', 'plain', 'dir-script', 'sneaky', 'linked', 'nope', '..', 'greet', 'nope']
    expect(await missingStepScripts(root, 'hello', names)).toEqual([
      'plain',
      'dir-script',
      'sneaky',
      'nope',
      '..',
    ])
    expect(await missingStepScripts(root, 'hello', ['greet', 'linked'])).toEqual([])
  })

  it('answers every name for an unsafe flow name or a missing root', async () => {
    await script(path.join(root, 'hello', 'steps', 'greet', 'step.sh'))
    expect(await missingStepScripts(root, '../flows/hello', ['greet'])).toEqual(['greet'])
    expect(await missingStepScripts(path.join(dir, 'no-root'), 'hello', ['greet'])).toEqual(['greet'])
  })
})
