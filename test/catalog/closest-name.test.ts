// Issue 18: a stage post naming a step that does not exist says which step was probably meant.

import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { closestName } from '../../catalog/closest-name.js'
import { unusableStepScripts } from '../../catalog/discover-flows.js'
import { createTempDir, removeDir, writeFlow } from '../support/temp-flows.js'

describe('closestName', () => {
  it('answers a name one or two edits away, never a far one', () => {
    const known = ['analyze', 'fetch-prices', 'report']
    expect(closestName('analyse', known)).toBe('analyze')
    expect(closestName('fetch-price', known)).toBe('fetch-prices')
    expect(closestName('Report', known)).toBe('report')
    expect(closestName('nope', known)).toBeNull()
    expect(closestName('rpt', known)).toBeNull()
    expect(closestName('report', known)).toBeNull()
  })
})

describe('unusableStepScripts', () => {
  let root: string
  beforeEach(async () => {
    root = await createTempDir()
    await writeFlow(root, 'market', { flow: 'exit 0', steps: { analyze: 'exit 0', report: 'exit 0' } })
  })
  afterEach(async () => {
    await removeDir(root)
  })

  it('says which step a missing one probably meant', async () => {
    const problems = await unusableStepScripts(root, 'market', ['analyse', 'report', 'zzz'])
    expect(problems.map((p) => p.reason)).toEqual([
      'steps/analyse/step.sh does not exist (did you mean analyze?)',
      'steps/zzz/step.sh does not exist',
    ])
  })
})
