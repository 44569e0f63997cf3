// Issue 14: hostile input is refused, never a 500, on both databases. Every request of
// hostile-cases.ts goes to an app over a seeded database (a run with a stage, fields and a log)
// and must get its status and code in the one error shape, leave every row of every table as it
// was, and leave the app answering.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testDatabases } from '../support/dialects.js'
import { openDatabaseSnapshots, type DatabaseSnapshots, type Snapshot } from '../support/database-snapshot.js'
import { expectApiError } from '../support/handler-app.js'
import { hostileCases } from './hostile-cases.js'
import { openTarget, type HostileTarget, type TargetKind } from './hostile-targets.js'

const API = '/api/v1'
const cases = hostileCases()

const targets = testDatabases.flatMap((database) =>
  (['app', 'server'] as TargetKind[]).map((kind) => ({ name: `${database.name}, ${kind}`, database, kind })),
)

describe.each(targets)('hostile input ($name)', ({ database, kind }) => {
  let api: HostileTarget
  let snapshots: DatabaseSnapshots
  let baseline: Snapshot
  const ids = { run: '', step: 'greet-1', flow: 'hello' }

  const fill = (text: string): string =>
    text.replaceAll('{run}', ids.run).replaceAll('{step}', ids.step).replaceAll('{flow}', ids.flow)

  beforeAll(async () => {
    api = await openTarget(kind, database)
    const run = await api.send('POST', `${API}/flows/hello/runs`, { input: { seeded: true } })
    expect(run.status).toBe(201)
    ids.run = (run.body as { id: string }).id
    const stage = await api.send('POST', `${API}/runs/${ids.run}/steps`, {
      stage: 'first',
      final: false,
      steps: [
        { id: 'greet-1', name: 'greet', env: { WHO: 'world' } },
        { id: 'bye-1', name: 'farewell', dependsOn: ['greet-1'], maxRetries: 2, timeoutSeconds: 60 },
      ],
    })
    expect(stage.status, JSON.stringify(stage.body)).toBe(201)
    expect(
      (await api.send('POST', `${API}/runs/${ids.run}/steps/greet-1/fields`, { fields: { a: 1 } })).status,
    ).toBe(200)
    expect((await api.send('POST', `${API}/runs/${ids.run}/logs`, { message: 'seeded' })).status).toBe(201)
    snapshots = openDatabaseSnapshots(api.databaseEnv)
    baseline = await snapshots.take()
    // The comparison means something only if the seeded rows are there.
    expect(baseline.runs).toHaveLength(1)
    expect(baseline.steps).toHaveLength(2)
    expect(baseline.logs).toContainEqual(expect.stringContaining('seeded'))
  })

  afterAll(async () => {
    await snapshots?.close()
    await api?.close()
  })

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, hostile) => {
    const body =
      typeof hostile.body === 'string'
        ? fill(hostile.body)
        : hostile.body === undefined || hostile.body instanceof Uint8Array
          ? hostile.body
          : JSON.parse(fill(JSON.stringify(hostile.body)))
    const res = await api.send(hostile.method, `${API}${fill(hostile.path)}`, body, hostile.headers)
    const error = expectApiError(res, hostile.status, hostile.code)
    for (const text of hostile.mentions ?? []) expect(JSON.stringify(error)).toContain(text)
    // Nothing unexpected was thrown (those are logged, and answered 500).
    expect(api.unexpectedErrors()).toEqual([])
    expect((await api.send('GET', '/health')).status).toBe(200)
    expect(await snapshots.take()).toEqual(baseline)
  })
})
