// The event hub's cost and clean-up (docs/events.md): while nobody listens it reads nothing and does
// not LISTEN; a client that goes away is unsubscribed, and with the last one the hub stops. Served
// over real TCP (@hono/node-server), where a disconnect is a closed socket, not a cancelled body.

import type { AddressInfo } from 'node:net'
import { serve, type ServerType } from '@hono/node-server'
import { afterEach, describe, expect, it } from 'vitest'
import { flowCatalog } from '../../catalog/flow-catalog.js'
import type { Store } from '../../db/store.js'
import { createApp } from '../../handlers/app.js'
import { EventHub } from '../../handlers/events/event-hub.js'
import { testDatabases } from '../support/dialects.js'
import { createHandlerApp, type HandlerApp } from '../support/handler-app.js'
import { openSse } from '../support/read-sse.js'
import { waitFor } from '../support/wait-for.js'

interface Counts {
  reads: number
  listens: number
  unlistens: number
}

/** The store, with its event-stream reads and LISTENs counted. */
function counted(store: Store, counts: Counts): Store {
  return {
    ...store,
    readChanges: (scope, since) => {
      counts.reads++
      return store.readChanges(scope, since)
    },
    subscribe: async (onEvent) => {
      counts.listens++
      const stop = await store.subscribe(onEvent)
      return async () => {
        counts.unlistens++
        await stop()
      }
    },
  }
}

function listen(api: Pick<HandlerApp, 'app'>): Promise<{ server: ServerType; base: string }> {
  return new Promise((resolve) => {
    const server = serve({ fetch: api.app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
      resolve({ server, base: `http://127.0.0.1:${info.port}/api/v1` }),
    )
  })
}

describe.each(testDatabases)('event hub ($name)', (database) => {
  let api: HandlerApp | undefined
  let server: ServerType | undefined

  afterEach(async () => {
    if (server !== undefined) {
      server.close()
      if ('closeAllConnections' in server) server.closeAllConnections()
    }
    await api?.close()
    api = server = undefined
  })

  it('reads nothing while nobody listens, and stops once its clients have gone', async () => {
    const counts: Counts = { reads: 0, listens: 0, unlistens: 0 }
    api = await createHandlerApp({ database, wrapStore: (store) => counted(store, counts) })
    const created = await api.send('POST', '/api/v1/flows/hello/runs', {})
    const runId = (created.body as { id: string }).id
    const scheduled = await api.send('POST', `/api/v1/runs/${runId}/steps`, {
      stage: 'main',
      final: true,
      steps: [{ id: 'g', name: 'greet' }],
    })
    expect(scheduled.status).toBe(201)
    // Changes made, nobody listening: no read, no LISTEN, no timer.
    expect(counts).toEqual({ reads: 0, listens: 0, unlistens: 0 })

    const listening = await listen(api)
    server = listening.server
    const one = await openSse(`${listening.base}/runs/${runId}/events`)
    const all = await openSse(`${listening.base}/events`)
    const first = await one.readUntil((event) => event.event === 'step')
    expect(first.map((event) => event.event)).toContain('run')
    expect(counts.listens).toBe(1)
    expect(counts.reads).toBeGreaterThan(0)

    one.close()
    all.close()
    await waitFor(() => counts.unlistens === 1, { timeoutMs: 10_000, message: 'the hub did not stop' })
    const reads = counts.reads
    // A change now wakes nobody: the hub has no subscriber, so no read starts.
    await api.send('POST', `/api/v1/runs/${runId}/pause`)
    await api.send('GET', `/api/v1/runs/${runId}`)
    expect(counts.reads).toBe(reads)
    expect(counts.listens).toBe(1)
  })

  it('says `: keepalive` on an idle stream, after `retry: 2000`', async () => {
    api = await createHandlerApp({ database })
    const hub = new EventHub(api.store, { keepaliveMs: 50 })
    const app = createApp({ store: api.store, catalog: flowCatalog(api.flowsRoot), events: hub })
    const listening = await listen({ app })
    server = listening.server
    const stream = await openSse(`${listening.base}/events`)
    expect(stream.status).toBe(200)
    expect(stream.headers.get('cache-control')).toBe('no-cache')
    expect(await stream.readComment('keepalive')).toBe(true)
    expect(stream.retries).toEqual([2000])
    stream.close()
    await waitFor(() => hub.stats.listeners === 0 && !hub.stats.active, { timeoutMs: 10_000 })
  })
})
