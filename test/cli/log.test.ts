import { afterEach, describe, expect, it, vi } from 'vitest'
import { createLogger } from '../../cli/log.js'
import { createHandlerApp, type HandlerApp } from '../support/handler-app.js'

describe('the server log', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  function captured(): string[] {
    const lines: string[] = []
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk))
      return true
    })
    return lines
  }

  it('writes one JSON object per line with LOG_FORMAT=json, filtered by level', () => {
    const lines = captured()
    const log = createLogger('info', 'json')
    log.debug('hidden')
    log.warn('a "quoted" warning')
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      level: 'warn',
      name: 'maxq',
      message: 'a "quoted" warning',
    })
  })

  it('writes text lines otherwise', () => {
    const lines = captured()
    createLogger('debug').debug('hello')
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\S+Z DEBUG maxq: hello\n$/)
  })
})

describe('the request log', () => {
  let api: HandlerApp | undefined
  afterEach(async () => {
    await api?.close()
  })

  it('tells each answered request: method, path, status, time and caller', async () => {
    const lines: string[] = []
    api = await createHandlerApp({ requestLog: (line) => lines.push(line) })
    await api.send('GET', '/api/v1/flows')
    await api.send('GET', '/api/v1/runs/nope')
    expect(lines[0]).toMatch(/^GET \/api\/v1\/flows 200 \d+\.\dms \(anonymous\)$/)
    expect(lines[1]).toMatch(/^GET \/api\/v1\/runs\/nope 404 /)
  })
})
