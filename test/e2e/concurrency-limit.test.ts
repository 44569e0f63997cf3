// End to end: MAXQ_MAX_CONCURRENT_STEPS holds however work is claimed. A step's end claims ready
// steps for the slot it frees and the other free ones, in the same transaction as its exit, while
// the tick loop claims for free slots too; neither may start a step beyond the limit, and every
// claimed step must actually run, once.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testDatabases } from '../support/dialects.js'
import { probe, stage, startE2eServer, type E2eServer, type Event } from './e2e-server.js'

const LIMIT = 2

/** The most steps running at once, from their start and end events (in time order). */
function mostAtOnce(events: Event[]): number {
  let running = 0
  let most = 0
  const ordered = [...events].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))
  for (const event of ordered) {
    if (event.kind === 'start') running++
    if (event.kind === 'end') running--
    most = Math.max(most, running)
  }
  return most
}

describe.each(testDatabases)('e2e concurrency limit ($name)', (database) => {
  let e2e: E2eServer

  beforeAll(async () => {
    e2e = await startE2eServer(database, { env: { MAXQ_MAX_CONCURRENT_STEPS: String(LIMIT) } })
  })

  afterAll(async () => {
    await e2e?.close()
  })

  it('never runs more steps at once than the limit, and runs every step once', async () => {
    const wide = Array.from({ length: 8 }, (_, i) => probe(`w${i}`, { env: { SLEEP: '0.2' } }))
    const chain = ['c1', 'c2', 'c3'].map((id, i) => probe(id, i === 0 ? {} : { dependsOn: [`c${i}`] }))
    const runId = await e2e.trigger({
      start: { post: [stage('wide', false, wide)] },
      'completed:wide': { post: [stage('chain', true, chain)] },
    })
    expect((await e2e.waitForRun(runId, ['completed', 'failed'], 60_000)).status).toBe('completed')

    const events = e2e.events(runId)
    expect(mostAtOnce(events)).toBe(LIMIT)
    for (const step of [...wide, ...chain]) expect(e2e.stepRecords(runId, step.id)).toHaveLength(1)
    const chainStarts = events.filter((e) => e.kind === 'start' && e.id.startsWith('c')).map((e) => e.id)
    expect(chainStarts).toEqual(['c1', 'c2', 'c3'])
  })
})
