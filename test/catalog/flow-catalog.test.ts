import { describe, expect, it } from 'vitest'
import { flowCatalog } from '../../catalog/flow-catalog.js'
import { createTempDir, removeDir, writeFlow } from '../support/temp-flows.js'

describe('flowCatalog', () => {
  it('answers for the flows under its own root only', async () => {
    const root = await createTempDir('maxq-catalog-')
    try {
      await writeFlow(root, 'hello', { flow: 'exit 0', steps: { greet: 'echo hi' } })
      const catalog = flowCatalog(root)
      expect((await catalog.listFlows()).map((flow) => [flow.name, flow.steps])).toEqual([
        ['hello', ['greet']],
      ])
      expect((await catalog.findFlow('hello', { steps: false }))?.steps).toEqual([])
      expect(await catalog.findFlow('nope')).toBeNull()
      expect((await catalog.unusableStepScripts('hello', ['greet', 'gone'])).map((p) => p.name)).toEqual([
        'gone',
      ])
      expect(await flowCatalog(`${root}-elsewhere`).listFlows()).toEqual([])
    } finally {
      await removeDir(root)
    }
  })
})
