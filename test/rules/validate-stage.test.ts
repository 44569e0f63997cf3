import { describe, expect, it } from 'vitest'
import { findCycle, validateStageGraph } from '../../db/rules/validate-stage.js'

const step = (id: string, dependsOn: string[] = []) => ({ id, name: 'work', dependsOn })

describe('validateStageGraph', () => {
  it('accepts a diamond and dependencies on existing steps', () => {
    const steps = [step('a', ['old']), step('b', ['a']), step('c', ['a']), step('d', ['b', 'c'])]
    expect(validateStageGraph(steps, new Set(['old']))).toBeNull()
  })

  it('rejects an id repeated in the request or already used by the run', () => {
    expect(validateStageGraph([step('a'), step('a')], new Set())).toEqual({
      code: 'DUPLICATE_STEP_ID',
      stepId: 'a',
      reason: 'Step ID appears more than once in this stage',
    })
    expect(validateStageGraph([step('a')], new Set(['a']))).toEqual({
      code: 'DUPLICATE_STEP_ID',
      stepId: 'a',
      reason: 'Step ID already exists in this run',
    })
  })

  it('rejects a dependency on an id nobody scheduled', () => {
    expect(validateStageGraph([step('a', ['ghost'])], new Set())).toEqual({
      code: 'UNKNOWN_DEPENDENCY',
      stepId: 'a',
      dependsOn: 'ghost',
    })
  })

  it('rejects cycles, naming one', () => {
    expect(validateStageGraph([step('a', ['c']), step('b', ['a']), step('c', ['b'])], new Set())).toEqual({
      code: 'DEPENDENCY_CYCLE',
      cycle: ['a', 'c', 'b', 'a'],
    })
    expect(findCycle([step('self', ['self'])])).toEqual(['self', 'self'])
  })

  it('handles a 10,000-step chain without recursion', () => {
    const chain = Array.from({ length: 10_000 }, (_, i) => step(`s${i}`, i === 0 ? [] : [`s${i - 1}`]))
    expect(validateStageGraph(chain, new Set())).toBeNull()
  })
})
