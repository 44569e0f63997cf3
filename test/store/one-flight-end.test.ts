// On PostgreSQL a step's success that leaves a sibling of its stage open is recorded in one flight:
// the run's lock, the end, the worker's claim and COMMIT are all sent before any answer is read, so
// the lock every end of the run queues for is never held across a round trip to the worker. The
// proof below withholds every answer PostgreSQL sends (a proxy between the store and the server):
// the end must still commit. An end that waits for an answer before its COMMIT never does.

import { createServer, connect, type Server, type Socket } from 'node:net'
import postgres from 'postgres'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openStore } from '../../db/open-store.js'
import type { Store } from '../../db/store.js'
import { createPostgresDatabase } from '../support/dialects.js'
import { runWithStage } from '../support/drive-run.js'
import { waitFor } from '../support/wait-for.js'

/** A TCP proxy to PostgreSQL whose answers to the client can be held back, and let go. */
async function answerHoldingProxy(target: URL): Promise<{
  url: (databaseUrl: string) => string
  hold: () => void
  letGo: () => void
  close: () => Promise<void>
}> {
  let holding = false
  const held: { to: Socket; chunk: Buffer }[] = []
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname)
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
      socket.on('error', () => undefined)
    }
    client.on('data', (chunk) => upstream.write(chunk))
    upstream.on('data', (chunk) => (holding ? held.push({ to: client, chunk }) : client.write(chunk)))
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('proxy: no port')
  return {
    url: (databaseUrl) => {
      const url = new URL(databaseUrl)
      url.hostname = '127.0.0.1'
      url.port = String(address.port)
      return url.toString()
    },
    hold: () => (holding = true),
    letGo: () => {
      holding = false
      for (const { to, chunk } of held.splice(0)) to.write(chunk)
    },
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

describe('a step’s end on PostgreSQL', () => {
  let store: Store
  let direct: postgres.Sql
  let proxy: Awaited<ReturnType<typeof answerHoldingProxy>>
  let drop: () => Promise<void>
  let now = 1_000_000
  const tick = () => ++now

  beforeEach(async () => {
    const database = await createPostgresDatabase()
    drop = database.drop
    proxy = await answerHoldingProxy(new URL(database.databaseUrl))
    // One connection: the end cannot find one that still has to be opened (which needs answers).
    store = await openStore({ databaseUrl: proxy.url(database.databaseUrl), poolSize: 1 })
    direct = postgres(database.databaseUrl, { max: 1, onnotice: () => undefined })
  })
  afterEach(async () => {
    proxy.letGo()
    await store.close()
    await direct.end()
    await proxy.close()
    await drop()
  })

  async function runningSteps(ids: string[]): Promise<Map<string, string>> {
    await runWithStage(
      store,
      { stage: 'one', final: true, steps: ids.map((id) => ({ id, name: 's' })) },
      tick,
    )
    const claimed = await store.claimReadySteps({ workerId: 'w', limit: ids.length }, tick())
    return new Map(claimed.map((step) => [step.stepId, step.lease]))
  }

  const statusOf = async (stepId: string): Promise<string | undefined> =>
    (await direct<{ status: string }[]>`SELECT status FROM steps WHERE step_id = ${stepId}`)[0]?.status

  it('commits a success beside an open sibling, with its claim, before reading any answer', async () => {
    const leases = await runningSteps(['warm', 'a', 'b', 'c'])
    const claim = { workerId: 'w', flowCallLimit: 1, stepLimit: 1 }
    // postgres.js prepares a statement on its first use on a connection, which waits for its
    // description: the same end once before, so only the end itself is measured.
    expect(
      (await store.recordExit({ lease: leases.get('warm')!, exitCode: 0 }, tick(), claim)).accepted,
    ).toBe(true)
    await direct`UPDATE steps SET status = 'pending', available_at = ${now}, worker_id = NULL WHERE step_id = 'c'`

    proxy.hold()
    const ending = store.recordExit({ lease: leases.get('a')!, exitCode: 0 }, tick(), claim)
    await waitFor(async () => (await statusOf('a')) === 'completed' && (await statusOf('c')) === 'running', {
      message: 'the end did not commit while its answers were held back',
    })
    proxy.letGo()
    const outcome = await ending
    expect(outcome.accepted).toBe(true)
    expect(outcome.claimed?.steps.map((step) => step.stepId)).toEqual(['c'])
  })

  it('records the last open step of a stage with its settle, and a stale report changes nothing', async () => {
    const leases = await runningSteps(['a', 'b'])
    expect((await store.recordExit({ lease: leases.get('a')!, exitCode: 0 }, tick())).accepted).toBe(true)
    const stage = async () => (await direct<{ status: string }[]>`SELECT status FROM stages`)[0]?.status
    expect(await stage()).toBe('running')

    const last = await store.recordExit({ lease: leases.get('b')!, exitCode: 0 }, tick(), {
      workerId: 'w',
      flowCallLimit: 1,
      stepLimit: 1,
    })
    expect(last.accepted).toBe(true)
    expect(await stage()).toBe('completed')
    // The final stage completed the run: nothing to call back, nothing left to claim.
    expect(last.claimed).toEqual({ flowCalls: [], steps: [] })
    expect((await direct<{ status: string }[]>`SELECT status FROM runs`)[0]?.status).toBe('completed')

    const again = await store.recordExit({ lease: leases.get('a')!, exitCode: 0 }, tick())
    expect(again.accepted).toBe(false)
    expect(
      Number((await direct<{ n: string }[]>`SELECT COUNT(*) AS n FROM attempts WHERE step_id = 'a'`)[0]?.n),
    ).toBe(1)
  })
})
