import { beforeEach, describe, expect, it } from 'vitest'
import type { Store } from '../../db/store.js'
import { testDatabases } from '../support/dialects.js'
import { storePerTest } from '../support/store-per-test.js'

describe.each(testDatabases)('step fields on $name', (database) => {
  let store: Store
  storePerTest(database, (opened) => (store = opened))
  let runId: string
  let now = 1_000_000
  const tick = () => ++now

  beforeEach(async () => {
    const run = await store.createRun({ flowName: 'demo' }, tick())
    runId = run.id
    await store.scheduleStage(
      runId,
      {
        stage: 'one',
        final: true,
        steps: [
          { id: 'a', name: 'fetch' },
          { id: 'b', name: 'fetch' },
          { id: 'c', name: 'store' },
        ],
      },
      tick(),
    )
  })

  it('merges posted fields into the step (a later key wins)', async () => {
    await store.postFields(runId, 'a', { count: 1, keep: 'yes' }, tick())
    const outcome = await store.postFields(runId, 'a', { count: 2, nested: { list: [1, null, 'x'] } }, tick())
    const expected = { count: 2, keep: 'yes', nested: { list: [1, null, 'x'] } }
    expect(outcome.ok && outcome.value.fields).toEqual(expected)
    const step = await store.getStep(runId, 'a')
    expect(step.ok && step.value.fields).toEqual(expected)
  })

  it('loses no key when many posts to one step arrive at once', async () => {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.postFields(runId, 'a', { [`k${i}`]: i }, tick())),
    )
    const step = await store.getStep(runId, 'a')
    expect(step.ok && step.value.fields).toEqual(
      Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i])),
    )
  })

  it('keeps string values as strings, even when they look like JSON', async () => {
    const fields = { text: 'plain', looksLikeJson: '{"a":1}', number: '42', nothing: null, flag: false }
    await store.postFields(runId, 'a', fields, tick())
    const step = await store.getStep(runId, 'a')
    expect(step.ok && step.value.fields).toEqual(fields)
  })

  it('queries fields by step ids and by field name', async () => {
    await store.postFields(runId, 'a', { url: 'https://a', size: 1 }, tick())
    await store.postFields(runId, 'b', { size: 2 }, tick())
    await store.postFields(runId, 'c', { url: 'https://c' }, tick())

    const all = await store.queryFields(runId, {})
    expect(all.ok && all.value.map((row) => [row.stepId, row.fields])).toEqual([
      ['a', { url: 'https://a', size: 1 }],
      ['b', { size: 2 }],
      ['c', { url: 'https://c' }],
    ])
    expect(all.ok && all.value[0]).toEqual({
      stepId: 'a',
      stepName: 'fetch',
      stageName: 'one',
      status: 'pending',
      fields: { url: 'https://a', size: 1 },
      completedAt: null,
    })

    const some = await store.queryFields(runId, { stepIds: ['c', 'a', 'ghost'] })
    expect(some.ok && some.value.map((row) => row.stepId)).toEqual(['a', 'c'])

    const named = await store.queryFields(runId, { fieldName: 'url' })
    expect(named.ok && named.value.map((row) => [row.stepId, row.fields])).toEqual([
      ['a', { url: 'https://a' }],
      ['c', { url: 'https://c' }],
    ])

    const both = await store.queryFields(runId, { stepIds: ['b', 'c'], fieldName: 'size' })
    expect(both.ok && both.value.map((row) => [row.stepId, row.fields])).toEqual([['b', { size: 2 }]])
  })

  it('answers STEP_NOT_FOUND and RUN_NOT_FOUND', async () => {
    expect(await store.postFields(runId, 'ghost', { x: 1 }, tick())).toMatchObject({
      ok: false,
      code: 'STEP_NOT_FOUND',
    })
    expect(await store.postFields('no-such-run', 'a', { x: 1 }, tick())).toMatchObject({
      ok: false,
      code: 'RUN_NOT_FOUND',
    })
    expect(await store.queryFields('no-such-run', {})).toMatchObject({ ok: false, code: 'RUN_NOT_FOUND' })
  })
})
