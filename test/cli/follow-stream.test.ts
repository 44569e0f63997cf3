// `--follow` over the event stream (cli/client/follow.ts): it redraws when events say the run
// changed, and falls back to polling on a server without a stream (here: one answering 404 there).

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClient, type ApiClient } from '../../cli/client/api-client.js'
import { follow } from '../../cli/client/follow.js'
import { testDatabases } from '../support/dialects.js'
import { probe, stage, startE2eServer, type E2eServer, type FlowCalls } from '../e2e/e2e-server.js'

const CALLS: FlowCalls = {
  start: { post: [stage('one', false, [probe('a')])] },
  'completed:one': { post: [stage('two', true, [probe('b')])] },
}

describe('maxq --follow and the event stream', () => {
  let e2e: E2eServer

  beforeAll(async () => {
    e2e = await startE2eServer(testDatabases[0]!)
  })

  afterAll(async () => {
    await e2e?.close()
  })

  async function followed(client: ApiClient): Promise<{ status: string; opened: string[]; text: string }> {
    const opened: string[] = []
    const watching: ApiClient = {
      ...client,
      open: (path, init) => {
        opened.push(path)
        return client.open(path, init)
      },
    }
    const runId = await e2e.trigger(CALLS)
    let text = ''
    const run = await follow({ client: watching, runId, write: (t) => (text += t), tty: false })
    return { status: run.status, opened, text }
  }

  it('follows a run to its end from its event stream', async () => {
    const result = await followed(createClient({ url: e2e.server.baseUrl, token: undefined }))
    expect(result.status).toBe('completed')
    expect(result.opened).toHaveLength(1)
    expect(result.opened[0]).toMatch(/^\/runs\/[^/]+\/events$/)
    expect(result.text).toMatch(/✓ two \(final\) 1\/1/)
  })

  it('polls a server that has no event stream', async () => {
    const client = createClient({ url: e2e.server.baseUrl, token: undefined })
    const older: ApiClient = { ...client, open: async () => new Response('{}', { status: 404 }) }
    const result = await followed(older)
    expect(result.status).toBe('completed')
    expect(result.text).toMatch(/✓ two \(final\) 1\/1/)
  })
})
