// The shell helper library against a tiny real HTTP server (curl does not go through msw).
import { execFile } from 'node:child_process'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { maxqLibPath } from '../../runtime/script-env.js'

interface Seen {
  method: string
  url: string
  contentType: string | undefined
  body: unknown
}

const seen: Seen[] = []
/** 'drop' closes the connection without an answer, as an API killed mid-request does. */
let answer: (req: Seen) => { status: number; body: unknown } | 'drop' = () => ({ status: 200, body: {} })
let server: Server
let api: string

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const text = Buffer.concat(chunks).toString('utf8')
  return text === '' ? null : JSON.parse(text)
}

beforeAll(async () => {
  server = createServer((req, res) => {
    void readBody(req).then((body) => {
      const request: Seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        contentType: req.headers['content-type'],
        body,
      }
      seen.push(request)
      const answered = answer(request)
      if (answered === 'drop') {
        req.socket.destroy()
        return
      }
      res
        .writeHead(answered.status, { 'content-type': 'application/json' })
        .end(JSON.stringify(answered.body))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  api = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`
})

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
})

beforeEach(() => {
  seen.length = 0
  answer = () => ({ status: 200, body: {} })
})

function sh(
  script: string,
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-c', `set -euo pipefail; . "$MAXQ_LIB"; ${script}`],
      {
        env: {
          PATH: process.env.PATH ?? '',
          MAXQ_LIB: maxqLibPath(),
          MAXQ_API: api,
          MAXQ_RUN_ID: 'run-1',
          ...env,
        },
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1
        resolve({ code, stdout, stderr })
      },
    )
  })
}

describe('maxq.sh', () => {
  it('maxq_step prints step definitions', async () => {
    const { stdout, code } = await sh(`maxq_step a fetch; maxq_step b process "a,x" 2 '{"SHARD":"1"}'`)
    expect(code).toBe(0)
    expect(
      stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual([
      { id: 'a', name: 'fetch', dependsOn: [], maxRetries: 0 },
      { id: 'b', name: 'process', dependsOn: ['a', 'x'], maxRetries: 2, env: { SHARD: '1' } },
    ])
  })

  it('maxq_schedule posts a stage as JSON', async () => {
    answer = () => ({ status: 201, body: { stage: 's1', scheduled: 1, steps: ['a'] } })
    const { stdout, code } = await sh(`maxq_schedule s1 true "[$(maxq_step a fetch)]"`)
    expect(code).toBe(0)
    expect(JSON.parse(stdout)).toEqual({ stage: 's1', scheduled: 1, steps: ['a'] })
    expect(seen).toEqual([
      {
        method: 'POST',
        url: '/api/v1/runs/run-1/steps',
        contentType: 'application/json',
        body: { stage: 's1', final: true, steps: [{ id: 'a', name: 'fetch', dependsOn: [], maxRetries: 0 }] },
      },
    ])
  })

  it('maxq_post_fields and maxq_log post for the current step', async () => {
    const { code, stdout } = await sh(`maxq_post_fields '{"n": 1}'; maxq_log info "it's done"`, {
      MAXQ_STEP_ID: 'a',
    })
    expect({ code, stdout }).toEqual({ code: 0, stdout: '' })
    expect(seen.map(({ method, url, body }) => ({ method, url, body }))).toEqual([
      { method: 'POST', url: '/api/v1/runs/run-1/steps/a/fields', body: { fields: { n: 1 } } },
      {
        method: 'POST',
        url: '/api/v1/runs/run-1/logs',
        body: { level: 'info', message: "it's done", entityType: 'step', entityId: 'a' },
      },
    ])
  })

  it('maxq_log from a flow logs for the flow', async () => {
    await sh(`maxq_log warn hi`, { MAXQ_FLOW_NAME: 'hello' })
    expect(seen[0]?.body).toEqual({ level: 'warn', message: 'hi', entityType: 'flow', entityId: 'hello' })
  })

  it('maxq_field prints one value, raw for strings, and fails for a missing field', async () => {
    answer = () => ({
      status: 200,
      body: {
        fields: [
          {
            stepId: 'a',
            stepName: 'fetch',
            stageName: 's',
            status: 'completed',
            fields: { msg: 'hi there', n: 3, off: false },
          },
        ],
      },
    })
    const got = await sh(
      `maxq_field a msg; maxq_field a n; maxq_field a off; maxq_field 'a b' missing || echo missing`,
    )
    expect(got.stdout).toBe('hi there\n3\nfalse\nmissing\n')
    expect(seen.map((s) => s.url)).toContain('/api/v1/runs/run-1/fields?stepId=a%20b&fieldName=missing')
  })

  it('maxq_fields prints the whole answer', async () => {
    answer = () => ({ status: 200, body: { fields: [] } })
    const got = await sh(`maxq_fields a,b`)
    expect(JSON.parse(got.stdout)).toEqual({ fields: [] })
    expect(seen[0]?.url).toBe('/api/v1/runs/run-1/fields?stepId=a%2Cb')
  })

  it('maxq_input prints the run input, or what a jq filter makes of it', async () => {
    const input = { days: 60, name: 'two words', symbols: ['AAPL', 'MSFT'], off: false }
    answer = () => ({ status: 200, body: { id: 'run-1', status: 'running', input, stages: [] } })
    const got = await sh(
      [
        'maxq_input',
        "maxq_input '.days // 30'",
        "maxq_input '.name'",
        "maxq_input '.symbols[]'",
        'maxq_input \'.missing // "fallback"\'',
        "maxq_input '.off // true'",
        "maxq_input '.days # a comment'",
      ].join('; '),
    )
    expect(got.code).toBe(0)
    expect(got.stdout.split('\n')).toEqual([
      JSON.stringify(input),
      '60',
      'two words',
      'AAPL',
      'MSFT',
      'fallback',
      // jq's `//` also replaces false: a boolean default wants `if has("off") then .off else true end`.
      'true',
      '60',
      '',
    ])
    expect(seen.map(({ method, url }) => `${method} ${url}`)).toEqual(Array(7).fill('GET /api/v1/runs/run-1'))
  })

  it('maxq_input answers null for a run without input, and fails for a bad filter', async () => {
    answer = () => ({ status: 200, body: { id: 'run-1', input: null } })
    expect((await sh("maxq_input; maxq_input '.days // 30'")).stdout).toBe('null\n30\n')
    const bad = await sh("maxq_input '.days |||'; echo unreachable")
    expect(bad.code).not.toBe(0)
    expect(bad.stdout).toBe('')
    answer = () => ({ status: 404, body: { error: 'Run not found', code: 'RUN_NOT_FOUND', details: null } })
    const missing = await sh('maxq_input; echo unreachable')
    expect(missing.code).not.toBe(0)
    expect(missing.stderr).toContain('RUN_NOT_FOUND')
  })

  it('sends a request again when the connection broke before the answer (an API restart)', async () => {
    let calls = 0
    answer = () => (++calls <= 2 ? 'drop' : { status: 200, body: { id: 's1', fields: { n: 1 } } })
    const got = await sh(`maxq_post_fields '{"n":1}'`, { MAXQ_STEP_ID: 's1' })
    expect(got.code).toBe(0)
    expect(seen).toHaveLength(3)
    expect(seen.every((request) => JSON.stringify(request.body) === '{"fields":{"n":1}}')).toBe(true)
  })

  it('fails with the API error on stderr', async () => {
    answer = () => ({ status: 400, body: { error: 'bad id', code: 'INVALID_STEP_ID', details: null } })
    const got = await sh(`maxq_schedule s1 false '[]'; echo unreachable`)
    expect(got.code).not.toBe(0)
    expect(got.stdout).not.toContain('unreachable')
    expect(got.stderr).toContain('INVALID_STEP_ID')
    expect(seen).toHaveLength(1)
  })
})
