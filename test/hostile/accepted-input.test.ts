// The other side of the hostile suite: input at the limits, or that only looks hostile, is
// accepted and stored exactly as sent, on both databases. A limit that refused these would break
// real flows; a store that changed them would be a quieter bug.

import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { testDatabases } from '../support/dialects.js'
import { createHandlerApp, type ApiResponse, type HandlerApp } from '../support/handler-app.js'

const API = '/api/v1'

describe.each(testDatabases)('input at the limits is accepted and kept exactly ($name)', (database) => {
  let api: HandlerApp
  let runId: string

  beforeEach(async () => {
    api = await createHandlerApp({ database })
    const run = await api.send('POST', `${API}/flows/hello/runs`, {})
    runId = (run.body as { id: string }).id
  })

  afterEach(async () => {
    await api.close()
  })

  const ok = (res: ApiResponse, status = 200): unknown => {
    expect(res.status, JSON.stringify(res.body).slice(0, 500)).toBe(status)
    return res.body
  }

  it('takes a stage at every limit: 255-character ids, 1,000 env entries, 32 KiB values, 7 days, 100 retries', async () => {
    const longId = 'i'.repeat(255)
    const env = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`V${i}`, `${i}`]))
    const steps = [
      { id: longId, name: 'greet', env, maxRetries: 100, timeoutSeconds: 7 * 24 * 60 * 60 },
      {
        id: 'big-env',
        name: 'farewell',
        dependsOn: [longId],
        env: { BIG: '€'.repeat(10_922), TMPDIR: '/scratch', HOME: '/home/x', LANG: 'C.UTF-8' },
      },
    ]
    ok(
      await api.send('POST', `${API}/runs/${runId}/steps`, { stage: 's'.repeat(255), final: true, steps }),
      201,
    )
    const step = ok(await api.send('GET', `${API}/runs/${runId}/steps/${longId}`)) as Record<string, unknown>
    expect(step).toMatchObject({ id: longId, maxRetries: 100, timeoutSeconds: 604_800 })
    expect(Object.keys(step.env as object)).toHaveLength(1000)
    const big = ok(await api.send('GET', `${API}/runs/${runId}/steps/big-env`)) as {
      env: Record<string, string>
    }
    expect(big.env.BIG).toBe('€'.repeat(10_922))
  })

  it('takes 10,000 steps in one stage', async () => {
    const steps = Array.from({ length: 10_000 }, (_, i) => ({ id: `s${i}`, name: 'greet' }))
    const res = ok(
      await api.send('POST', `${API}/runs/${runId}/steps`, { stage: 'wide', final: true, steps }),
      201,
    )
    expect(res).toMatchObject({ scheduled: 10_000 })
  })

  it('takes a 1.5 MiB fields post with the default limits', async () => {
    ok(
      await api.send('POST', `${API}/runs/${runId}/steps`, {
        stage: 'one',
        final: true,
        steps: [{ id: 'a', name: 'greet' }],
      }),
      201,
    )
    const blob = 'f'.repeat(1.5 * 1024 * 1024)
    ok(await api.send('POST', `${API}/runs/${runId}/steps/a/fields`, { fields: { blob } }))
    const fields = ok(await api.send('GET', `${API}/runs/${runId}/fields?stepId=a`)) as {
      fields: { fields: { blob: string } }[]
    }
    expect(fields.fields[0]?.fields.blob).toBe(blob)
  })

  it('stores SQL, shell and prototype-looking text, control characters and every plane of Unicode verbatim', async () => {
    const texts = [
      "'; DROP TABLE runs; --",
      '" OR 1=1 --',
      '$(touch /tmp/pwned) `id` ${HOME}',
      '__proto__',
      'constructor.prototype',
      '%00 %ff \\u0000',
      'tab\tnewline\nreturn\rbell\u0007escape\u001b[31m',
      'é 漢字 🚀 \u202e reversed \uffff',
    ]
    const input = Object.fromEntries(texts.map((text, i) => [`t${i}`, text]))
    const run = ok(
      await api.send('POST', `${API}/runs`, { flowName: 'hello', input, metadata: texts }),
      201,
    ) as {
      id: string
    }
    const stored = ok(await api.send('GET', `${API}/runs/${run.id}`)) as { input: unknown; metadata: unknown }
    expect(stored).toMatchObject({ input, metadata: texts })
    ok(await api.send('PATCH', `${API}/runs/${run.id}`, { name: texts[0], description: texts.join('|') }))
    expect(ok(await api.send('GET', `${API}/runs/${run.id}`))).toMatchObject({
      name: texts[0],
      description: texts.join('|'),
    })
    const log = ok(
      await api.send('POST', `${API}/runs/${run.id}/logs`, { message: texts[6], metadata: { texts } }),
      201,
    )
    expect(log).toMatchObject({ message: texts[6], metadata: { texts } })
  })

  it('takes JSON nested 64 levels deep', async () => {
    const res = await api.send(
      'POST',
      `${API}/flows/hello/runs`,
      `{"input":${'['.repeat(63)}${']'.repeat(63)}}`,
      {
        headers: { 'Content-Type': 'application/json' },
      },
    )
    ok(res, 201)
  })

  it.each([
    ['no Content-Type', undefined],
    ['application/json', 'application/json'],
    ['application/json; charset=utf-8', 'application/json; charset=utf-8'],
    ['application/json; charset="UTF-8"', 'application/json; charset="UTF-8"'],
    ['a +json type', 'application/vnd.maxq+json'],
    ['text/plain', 'text/plain'],
    ['what curl -d sends', 'application/x-www-form-urlencoded'],
  ])('reads a JSON body sent with %s', async (_label, contentType) => {
    const body = new TextEncoder().encode(JSON.stringify({ input: { via: contentType ?? null } }))
    const headers: Record<string, string> = contentType === undefined ? {} : { 'Content-Type': contentType }
    const res = ok(await api.send('POST', `${API}/flows/hello/runs`, body, { headers }), 201)
    expect(res).toMatchObject({ input: { via: contentType ?? null } })
  })

  it('pages to the largest offset and limit', async () => {
    ok(await api.send('GET', `${API}/runs?limit=100&offset=9007199254740991`))
    ok(await api.send('GET', `${API}/runs/${runId}/steps?limit=1000&offset=9007199254740991`))
    ok(await api.send('GET', `${API}/runs/${runId}/logs?limit=1000`))
  })
})
