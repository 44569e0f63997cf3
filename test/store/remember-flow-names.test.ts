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
    const flowNames = rememberFlowNames(read)
    expect(await flowNames.of('r1')).toBe('flow_a')
    expect(await flowNames.of('r1')).toBe('flow_a')
    expect(reads).toEqual(['r1'])
  })

  it('answers a run it was told about without reading it', async () => {
    const { read, reads } = countingReader({})
    const flowNames = rememberFlowNames(read)
    flowNames.remember('r1', 'flow_a')
    expect(await flowNames.of('r1')).toBe('flow_a')
    expect(reads).toEqual([])
  })

  it('does not remember an unknown run, so a run created later is found', async () => {
    const names: Record<string, string> = {}
    const { read, reads } = countingReader(names)
    const flowNames = rememberFlowNames(read)
    expect(await flowNames.of('r2')).toBeNull()
    names.r2 = 'flow_b'
    expect(await flowNames.of('r2')).toBe('flow_b')
    expect(reads).toEqual(['r2', 'r2'])
  })

  it('forgets the least recently told or read run first when full', async () => {
    const { read, reads } = countingReader({ r1: 'a', r2: 'b', r3: 'c' })
    const flowNames = rememberFlowNames(read, 2)
    await flowNames.of('r1')
    await flowNames.of('r2')
    await flowNames.of('r3')
    await flowNames.of('r3')
    await flowNames.of('r2')
    expect(reads).toEqual(['r1', 'r2', 'r3'])
    await flowNames.of('r1')
    expect(reads).toEqual(['r1', 'r2', 'r3', 'r1'])
    // r3 is now the oldest; telling it again makes r1 the oldest, and the next one pushes r1 out.
    flowNames.remember('r3', 'c')
    flowNames.remember('r4', 'd')
    await flowNames.of('r3')
    await flowNames.of('r1')
    expect(reads).toEqual(['r1', 'r2', 'r3', 'r1', 'r1'])
  })
})
