import { describe, expect, it } from 'vitest'
import { rememberFlowNames } from '../../db/remember-flow-names.js'

function countingReader(names: Record<string, string>) {
  const reads: string[] = []
  const read = async (runId: string) => {
    reads.push(runId)
    return names[runId] ?? null
  }
  return { read, reads }
}

describe('rememberFlowNames', () => {
  it('reads a run once and answers from memory after that', async () => {
    const { read, reads } = countingReader({ r1: 'flow_a' })
    const flowNameOf = rememberFlowNames(read)
    expect(await flowNameOf('r1')).toBe('flow_a')
    expect(await flowNameOf('r1')).toBe('flow_a')
    expect(reads).toEqual(['r1'])
  })

  it('does not remember an unknown run, so a run created later is found', async () => {
    const names: Record<string, string> = {}
    const { read, reads } = countingReader(names)
    const flowNameOf = rememberFlowNames(read)
    expect(await flowNameOf('r2')).toBeNull()
    names.r2 = 'flow_b'
    expect(await flowNameOf('r2')).toBe('flow_b')
    expect(reads).toEqual(['r2', 'r2'])
  })

  it('forgets the oldest run first when full', async () => {
    const { read, reads } = countingReader({ r1: 'a', r2: 'b', r3: 'c' })
    const flowNameOf = rememberFlowNames(read, 2)
    await flowNameOf('r1')
    await flowNameOf('r2')
    await flowNameOf('r3')
    await flowNameOf('r3')
    await flowNameOf('r2')
    expect(reads).toEqual(['r1', 'r2', 'r3'])
    await flowNameOf('r1')
    expect(reads).toEqual(['r1', 'r2', 'r3', 'r1'])
  })
})
