import { describe, expect, it } from 'vitest'
import type { Store } from '../../db/store.js'
import { testDatabases } from '../support/dialects.js'
import { storePerTest } from '../support/store-per-test.js'

describe.each(testDatabases)("a run's secret env values on $name", (database) => {
  let store: Store
  storePerTest(database, (opened) => (store = opened))

  it('read *** in the log entries its scripts write, in the message and the metadata', async () => {
    const run = await store.createRun({ flowName: 'demo' }, 1)
    const scheduled = await store.scheduleStage(
      run.id,
      {
        stage: 'one',
        final: false,
        steps: [
          { id: 'a', name: 'fetch', env: { API_TOKEN: 'tok-4f9a2c', SHARD: 'shard-value-1' } },
          { id: 'b', name: 'fetch', env: { DB_PASSWORD: 'pw-77aa21' } },
        ],
      },
      2,
    )
    expect(scheduled.ok).toBe(true)
    await store.scheduleStage(
      run.id,
      { stage: 'two', final: true, steps: [{ id: 'c', name: 'store', env: { SECRET_KEY: 'key-0b1e5d' } }] },
      3,
    )
    const logged = await store.appendLog(
      run.id,
      {
        level: 'info',
        message: 'using tok-4f9a2c, pw-77aa21 and key-0b1e5d on shard-value-1',
        metadata: { nested: ['tok-4f9a2c'], plain: 1 },
      },
      4,
    )
    expect(logged.ok && logged.value).toMatchObject({
      message: 'using ***, *** and *** on shard-value-1',
      metadata: { nested: ['***'], plain: 1 },
    })
    const listed = await store.listLogs(run.id, { limit: 10 })
    expect(JSON.stringify(listed)).not.toMatch(/tok-4f9a2c|pw-77aa21|key-0b1e5d/)
  })
})
