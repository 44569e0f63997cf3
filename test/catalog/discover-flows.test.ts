import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { discoverFlows, findFlow, unusableStepScripts } from '../../catalog/discover-flows.js'

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

async function script(file: string, mode = 0o755, text = '#!/bin/bash\nexit 0\n'): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true })
  await writeFile(file, text)
  await chmod(file, mode)
}

const usableFlow = (name: string, steps: string[]) => ({
  name,
  path: path.join(root, name),
  flowScript: path.join(root, name, 'flow.sh'),
  steps,
  usable: true,
  problem: null,
  problems: [],
})

describe('discoverFlows', () => {
  it('returns [] for a missing root', async () => {
    expect(await discoverFlows(path.join(dir, 'nope'))).toEqual([])
  })

  it('lists flows with their usable steps, sorted, and says why the others cannot run', async () => {
    await script(path.join(root, 'zeta', 'flow.sh'))
    await script(path.join(root, 'alpha', 'flow.sh'))
    await script(path.join(root, 'alpha', 'steps', 'b', 'step.sh'))
    await script(path.join(root, 'alpha', 'steps', 'a', 'step.sh'))
    await script(path.join(root, 'alpha', 'steps', 'not-exec', 'step.sh'), 0o644)
    await script(path.join(root, 'alpha', 'steps', 'crlf', 'step.sh'), 0o755, '#!/bin/bash\r\necho hi\r\n')
    await mkdir(path.join(root, 'alpha', 'steps', 'empty'), { recursive: true })
    await mkdir(path.join(root, 'alpha', 'steps', 'dir-script', 'step.sh'), { recursive: true })
    await mkdir(path.join(root, 'alpha', 'steps', 'bad.name'), { recursive: true })
    await mkdir(path.join(root, 'alpha', 'steps', '.hidden'), { recursive: true })
    await writeFile(path.join(root, 'alpha', 'steps', 'README.md'), 'not a step')
    await script(path.join(root, 'no-exec', 'flow.sh'), 0o644)
    await mkdir(path.join(root, 'no-script'))
    await script(path.join(root, 'bad.name', 'flow.sh'))
    await mkdir(path.join(root, '.git'))
    await writeFile(path.join(root, 'file.txt'), 'x')

    const flows = await discoverFlows(root)
    expect(flows.map((f) => [f.name, f.usable])).toEqual([
      ['alpha', true],
      ['bad.name', false],
      ['no-exec', false],
      ['no-script', false],
      ['zeta', true],
    ])
    expect(flows[0]).toEqual({
      ...usableFlow('alpha', ['a', 'b']),
      problems: [
        {
          step: 'bad.name',
          kind: 'invalid_name',
          reason: expect.stringContaining('"bad.name" is not a valid step'),
        },
        {
          step: 'crlf',
          kind: 'crlf_shebang',
          reason: expect.stringContaining('steps/crlf/step.sh has Windows'),
        },
        { step: 'dir-script', kind: 'not_a_file', reason: 'steps/dir-script/step.sh is not a regular file' },
        { step: 'empty', kind: 'missing', reason: 'steps/empty/step.sh does not exist' },
        {
          step: 'not-exec',
          kind: 'not_executable',
          reason: 'steps/not-exec/step.sh is not executable (chmod +x steps/not-exec/step.sh)',
        },
      ],
    })
    expect(flows[1]).toMatchObject({ problem: { kind: 'invalid_name' }, steps: [] })
    expect(flows[2]).toMatchObject({
      steps: [],
      problem: { kind: 'not_executable', reason: 'flow.sh is not executable (chmod +x flow.sh)' },
      problems: [{ kind: 'not_executable' }],
    })
    expect(flows[3]).toMatchObject({ problem: { kind: 'missing', reason: 'flow.sh does not exist' } })
    expect(flows[4]).toEqual(usableFlow('zeta', []))
    // Reasons never name the server's own paths.
    expect(JSON.stringify(flows.map((f) => f.problems))).not.toContain(root)
  })

  it('finds a CRLF #! line, but not CRLF further down or a script without #!', async () => {
    await script(path.join(root, 'f', 'flow.sh'))
    await script(path.join(root, 'f', 'steps', 'later', 'step.sh'), 0o755, '#!/bin/bash\necho hi\r\n')
    await script(path.join(root, 'f', 'steps', 'env', 'step.sh'), 0o755, '#!/usr/bin/env bash\r\n')
    await script(path.join(root, 'f', 'steps', 'plain', 'step.sh'), 0o755, 'echo hi\r\n')
    const [flow] = await discoverFlows(root)
    expect(flow?.steps).toEqual(['later', 'plain'])
    expect(flow?.problems).toEqual([{ step: 'env', kind: 'crlf_shebang', reason: expect.any(String) }])
  })

  it('follows symlinks that stay inside the root and explains those that leave it', async () => {
    await script(path.join(root, 'real', 'flow.sh'))
    await symlink(path.join(root, 'real'), path.join(root, 'linked'))
    await script(path.join(dir, 'outside', 'flow.sh'))
    await symlink(path.join(dir, 'outside'), path.join(root, 'escape'))
    await script(path.join(dir, 'outside-step', 'step.sh'))
    await mkdir(path.join(root, 'real', 'steps'))
    await symlink(path.join(dir, 'outside-step'), path.join(root, 'real', 'steps', 'sneaky'))
    await script(path.join(dir, 'outside-flow.sh'))
    await mkdir(path.join(root, 'linked-script'))
    await symlink(path.join(dir, 'outside-flow.sh'), path.join(root, 'linked-script', 'flow.sh'))
    await symlink(path.join(dir, 'nowhere'), path.join(root, 'real', 'steps', 'dangling'))
    await mkdir(path.join(root, 'real', 'steps', 'dangling-script'))
    await symlink(path.join(dir, 'nowhere'), path.join(root, 'real', 'steps', 'dangling-script', 'step.sh'))

    const flows = await discoverFlows(root)
    expect(flows.map((f) => [f.name, f.usable, f.problem?.kind ?? null])).toEqual([
      ['escape', false, 'outside_root'],
      ['linked', true, null],
      ['linked-script', false, 'outside_root'],
      ['real', true, null],
    ])
    expect(flows[0]?.problem?.reason).toBe('escape is a symbolic link to a directory outside MAXQ_FLOWS_ROOT')
    expect(flows[2]?.problem?.reason).toBe('flow.sh leads (through a symbolic link) outside MAXQ_FLOWS_ROOT')
    expect(flows[3]?.steps).toEqual([])
    expect(flows[3]?.problems).toEqual([
      {
        step: 'dangling-script',
        kind: 'missing',
        reason: 'steps/dangling-script/step.sh is a symbolic link to a file that does not exist',
      },
      { step: 'sneaky', kind: 'outside_root', reason: expect.stringContaining('steps/sneaky/step.sh') },
    ])
  })

  it('accepts a root that is itself a symlink', async () => {
    await script(path.join(root, 'one', 'flow.sh'))
    const link = path.join(dir, 'root-link')
    await symlink(root, link)
    expect((await discoverFlows(link)).map((f) => f.path)).toEqual([path.join(link, 'one')])
  })
})

describe('findFlow', () => {
  it('finds one flow with its steps, or only its flow.sh when asked', async () => {
    await script(path.join(root, 'hello', 'flow.sh'))
    await script(path.join(root, 'hello', 'steps', 'greet', 'step.sh'))
    expect(await findFlow(root, 'hello')).toEqual(usableFlow('hello', ['greet']))
    expect(await findFlow(root, 'hello', { steps: false })).toEqual(usableFlow('hello', []))
  })

  it('answers an unusable flow with its problem', async () => {
    await script(path.join(root, 'plain', 'flow.sh'), 0o600)
    await mkdir(path.join(root, 'empty'))
    await script(path.join(root, 'dotted.name', 'flow.sh'))
    expect(await findFlow(root, 'plain')).toMatchObject({
      usable: false,
      problem: { kind: 'not_executable' },
    })
    expect(await findFlow(root, 'empty')).toMatchObject({ usable: false, problem: { kind: 'missing' } })
    expect(await findFlow(root, 'dotted.name')).toMatchObject({
      usable: false,
      problem: { kind: 'invalid_name' },
    })
  })

  it('returns null for names that could leave the root, hidden and missing directories', async () => {
    await script(path.join(dir, 'secret', 'flow.sh'))
    await mkdir(path.join(root, '.hidden'))
    await writeFile(path.join(root, 'file'), 'x')
    for (const name of ['../secret', '..', '.', '', '.hidden', 'missing', 'file', 'a\\b']) {
      expect(await findFlow(root, name), name).toBeNull()
    }
    expect(await findFlow(path.join(dir, 'no-root'), 'plain')).toBeNull()
  })
})

describe('unusableStepScripts', () => {
  it('answers, once each, the named steps without a usable step.sh inside the root, with why', async () => {
    await script(path.join(root, 'hello', 'flow.sh'))
    await script(path.join(root, 'hello', 'steps', 'greet', 'step.sh'))
    await script(path.join(root, 'hello', 'steps', 'plain', 'step.sh'), 0o644)
    await script(path.join(root, 'hello', 'steps', 'crlf', 'step.sh'), 0o755, '#!/bin/bash\r\n')
    await mkdir(path.join(root, 'hello', 'steps', 'dir-script', 'step.sh'), { recursive: true })
    await script(path.join(dir, 'outside-step', 'step.sh'))
    await symlink(path.join(dir, 'outside-step'), path.join(root, 'hello', 'steps', 'sneaky'))
    await script(path.join(root, 'other', 'steps', 'shared', 'step.sh'))
    await symlink(path.join(root, 'other', 'steps', 'shared'), path.join(root, 'hello', 'steps', 'linked'))

    const names = ['greet', 'plain', 'crlf', 'dir-script', 'sneaky', 'linked', 'nope', '..', 'greet', 'nope']
    const problems = await unusableStepScripts(root, 'hello', names)
    expect(problems.map((p) => [p.name, p.kind, p.path])).toEqual([
      ['plain', 'not_executable', 'hello/steps/plain/step.sh'],
      ['crlf', 'crlf_shebang', 'hello/steps/crlf/step.sh'],
      ['dir-script', 'not_a_file', 'hello/steps/dir-script/step.sh'],
      ['sneaky', 'outside_root', 'hello/steps/sneaky/step.sh'],
      ['nope', 'missing', 'hello/steps/nope/step.sh'],
      ['..', 'invalid_name', 'hello/steps/../step.sh'],
    ])
    expect(problems.find((p) => p.name === 'nope')?.reason).toBe('steps/nope/step.sh does not exist')
    expect(await unusableStepScripts(root, 'hello', ['greet', 'linked'])).toEqual([])
  })

  it('answers every name for an unsafe flow name or a missing root', async () => {
    await script(path.join(root, 'hello', 'steps', 'greet', 'step.sh'))
    const kinds = async (flowsRoot: string, flowName: string) =>
      (await unusableStepScripts(flowsRoot, flowName, ['greet'])).map((p) => [p.name, p.kind])
    expect(await kinds(root, '../flows/hello')).toEqual([['greet', 'missing']])
    expect(await kinds(path.join(dir, 'no-root'), 'hello')).toEqual([['greet', 'missing']])
  })
})
