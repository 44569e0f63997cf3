// Scheduled flows with several schedulers, as the issue checks them: a flow scheduled every second
// (6-field cron) and three `maxq tick --watch` processes on one PostgreSQL. Each slot must start
// exactly one run, and no slot may be missing between the first and the last, also across a
// restart of every tick process (catchUp "all" runs the slots of the downtime once).
//
// PostgreSQL only: several tick processes against one database is the PostgreSQL deployment; the
// SQLite deployment is one process, whose slots the scheduler tests cover on both dialects.

import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openStore } from '../../db/open-store.js'
import type { Store } from '../../db/store.js'
import { createPostgresDatabase } from '../support/dialects.js'
import { startServer, type RunningServer } from '../support/start-server.js'
import { startTick, stopTick, type TickProcess } from '../support/tick-process.js'
import { waitFor } from '../support/wait-for.js'

const TICK_PROCESSES = 3

describe('a flow scheduled every second with three `maxq tick --watch` on PostgreSQL', () => {
  let database: { databaseUrl: string; drop(): Promise<void> } | undefined
  let server: RunningServer | undefined
  let store: Store | undefined
  let flowsRoot = ''
  let ticks: TickProcess[] = []

  const startTicks = async () => {
    ticks = Array.from({ length: TICK_PROCESSES }, () =>
      startTick({ ...server!.env, MAXQ_API_URL: server!.apiBase }),
    )
    await waitFor(() => ticks.every((tick) => tick.output().includes('tick loop ')), {
      timeoutMs: 30_000,
      intervalMs: 50,
    })
  }

  /** The slot of every run the schedule started, sorted. */
  const slots = async (): Promise<number[]> => {
    const { runs } = await store!.listRuns({
      flowName: 'every-second',
      limit: 10_000,
      offset: 0,
      sortBy: 'createdAt',
      sortOrder: 'asc',
    })
    return runs
      .map((run) => (run.metadata as { trigger: { slot: number } }).trigger.slot)
      .sort((a, b) => a - b)
  }

  beforeAll(async () => {
    flowsRoot = mkdtempSync(path.join(tmpdir(), 'maxq-scheduled-'))
    const flowDir = path.join(flowsRoot, 'every-second')
    mkdirSync(flowDir)
    // A flow that schedules nothing: its run completes at its first call.
    writeFileSync(path.join(flowDir, 'flow.sh'), '#!/usr/bin/env bash\nexit 0\n')
    chmodSync(path.join(flowDir, 'flow.sh'), 0o755)
    writeFileSync(
      path.join(flowDir, 'flow.json'),
      JSON.stringify({ schedules: [{ cron: '* * * * * *', overlap: 'allow', catchUp: 'all' }] }),
    )
    database = await createPostgresDatabase()
    server = await startServer({
      flowsRoot,
      databaseEnv: { MAXQ_DATABASE_URL: database.databaseUrl },
      args: ['bin/maxq.js', 'serve'],
    })
    store = await openStore({ databaseUrl: database.databaseUrl })
  })

  afterAll(async () => {
    await Promise.all(ticks.map(stopTick))
    await store?.close()
    await server?.stop()
    await database?.drop()
    if (flowsRoot !== '') rmSync(flowsRoot, { recursive: true, force: true })
  })

  it('starts each slot exactly once, with no slot missing, across a restart of the ticks', async () => {
    await startTicks()
    await waitFor(async () => (await slots()).length >= 4, {
      timeoutMs: 30_000,
      intervalMs: 100,
    }).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${ticks.map((tick) => tick.output()).join('\n---\n')}`)
    })
    await Promise.all(ticks.map(stopTick))
    const beforeRestart = await slots()

    await startTicks()
    const last = beforeRestart[beforeRestart.length - 1]!
    await waitFor(async () => (await slots()).some((slot) => slot >= last + 4_000), {
      timeoutMs: 30_000,
      intervalMs: 100,
    })
    await Promise.all(ticks.map(stopTick))

    const all = await slots()
    expect(new Set(all).size).toBe(all.length)
    const first = all[0]!
    expect(all).toEqual(Array.from({ length: all.length }, (_, i) => first + i * 1000))
    const { runs } = await store!.listRuns({
      flowName: 'every-second',
      limit: 10_000,
      offset: 0,
      sortBy: 'createdAt',
      sortOrder: 'asc',
    })
    expect(runs[0]?.metadata).toEqual({
      trigger: { type: 'schedule', schedule: 0, slot: first, cron: '* * * * * *' },
    })
  })
})
