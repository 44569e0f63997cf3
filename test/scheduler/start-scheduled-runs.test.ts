// The tick's schedule step over a real store and a flows root with a flow.json, on a clock the test
// moves: a new schedule starts from its first sighting, catch-up modes after downtime, several
// keepers (ticks) never start a slot twice, and an invalid flow.json is told once.

import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Store } from '../../db/store.js'
import { ScheduleKeeper } from '../../scheduler/start-scheduled-runs.js'
import { testDatabases } from '../support/dialects.js'
import { storePerTest } from '../support/store-per-test.js'

const MINUTE = 60_000
const T0 = Date.parse('2026-01-01T00:00:30Z')

describe.each(testDatabases)('scheduled runs on $name', (database) => {
  let store: Store
  storePerTest(database, (opened) => (store = opened))
  let root: string
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'maxq-schedules-'))
    mkdirSync(join(root, 'nightly'))
  })
  afterEach(() => rmSync(root, { recursive: true, force: true }))

  const configure = (schedule: Record<string, unknown>) =>
    writeFileSync(join(root, 'nightly', 'flow.json'), JSON.stringify({ schedules: [schedule] }))
  const keeper = (warnings: string[] = []) =>
    new ScheduleKeeper({ store, flowsRoot: root, warn: (message) => warnings.push(message) })
  const slots = async () => {
    const { runs } = await store.listRuns({
      flowName: 'nightly',
      limit: 500,
      offset: 0,
      sortBy: 'createdAt',
      sortOrder: 'asc',
    })
    return runs
      .map((run) => (run.metadata as { trigger: { slot: number } }).trigger.slot)
      .sort((a, b) => a - b)
  }

  it('starts from the first sighting, then each slot once across several ticks', async () => {
    configure({ cron: '* * * * *', overlap: 'allow' })
    const ticks = [keeper(), keeper(), keeper()]
    // First sighting at T0: the 00:00 slot before it never runs.
    expect(await ticks[0]!.startDue(T0)).toBe(0)
    for (const now of [T0 + MINUTE, T0 + 2 * MINUTE]) {
      const started = await Promise.all(ticks.map((t) => t.startDue(now)))
      expect(started.reduce((a, b) => a + b, 0)).toBe(1)
    }
    expect(await slots()).toEqual([T0 - 30_000 + MINUTE, T0 - 30_000 + 2 * MINUTE])
    expect(
      (
        await store.getRun(
          (await store.listRuns({ limit: 1, offset: 0, sortBy: 'createdAt', sortOrder: 'asc' })).runs[0]!.id,
        )
      )?.metadata,
    ).toEqual({
      trigger: { type: 'schedule', schedule: 0, slot: T0 - 30_000 + MINUTE, cron: '* * * * *' },
    })
  })

  it.each([
    ['latest', [5]],
    ['all', [1, 2, 3, 4, 5]],
    ['none', []],
  ] as const)('after downtime, catchUp %s', async (catchUp, hours) => {
    const HOUR = 60 * MINUTE
    configure({ cron: '0 * * * *', overlap: 'allow', catchUp })
    await keeper().startDue(T0)
    // Down for five hours; a new process comes back at 05:02, past the minute "none" allows.
    await keeper().startDue(T0 + 5 * HOUR + 90_000)
    expect(await slots()).toEqual(hours.map((h) => T0 - 30_000 + h * HOUR))
  })

  it('tells an idle tick loop when a slot may be due, so it does not wait for other work', async () => {
    configure({ cron: '* * * * *' })
    const tick = keeper()
    expect(tick.due(T0)).toBe(true)
    await tick.startDue(T0)
    expect(tick.due(T0 + 1000)).toBe(false)
    expect(tick.due(T0 + 30_000)).toBe(true)
  })

  it('catchUp all starts at most 100 slots a tick and asks for the next tick to go on', async () => {
    configure({ cron: '* * * * *', overlap: 'allow', catchUp: 'all' })
    const tick = keeper()
    await tick.startDue(T0)
    const back = T0 + 150 * MINUTE
    expect(await tick.startDue(back)).toBe(100)
    expect(tick.due(back + 1)).toBe(true)
    expect(await tick.startDue(back + 1)).toBe(50)
    expect(tick.due(back + 2)).toBe(false)
    expect(await slots()).toEqual(Array.from({ length: 150 }, (_, i) => T0 - 30_000 + (i + 1) * MINUTE))
  })

  it('overlap skip starts no slot while the last scheduled run is open', async () => {
    configure({ cron: '* * * * *' })
    await keeper().startDue(T0)
    expect(await keeper().startDue(T0 + MINUTE)).toBe(1)
    expect(await keeper().startDue(T0 + 2 * MINUTE)).toBe(0)
    expect(await slots()).toHaveLength(1)
  })

  it('a disabled schedule starts nothing; an invalid flow.json is told once and starts nothing', async () => {
    configure({ cron: '* * * * *', enabled: false })
    expect(await keeper().startDue(T0)).toBe(0)
    expect(await store.lastScheduleSlots(['nightly'])).toEqual([])

    configure({ cron: '* * *' })
    const warnings: string[] = []
    const tick = keeper(warnings)
    expect(await tick.startDue(T0)).toBe(0)
    expect(await tick.startDue(T0 + 10 * MINUTE)).toBe(0)
    expect(warnings).toEqual([
      'flow nightly: flow.json is invalid: schedules.0.cron: "* * *" has 3 fields: use 5 (minute hour day month weekday) or 6 (seconds first); its schedules are not run until it is fixed',
    ])
  })
})
