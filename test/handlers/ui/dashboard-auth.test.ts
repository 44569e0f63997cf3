// The dashboard's login, session cookie and CSRF checks, through app.request() on the real app
// (the browser test, test/e2e/dashboard.test.ts, drives the same in Chromium).

import { afterEach, describe, expect, it } from 'vitest'
import { CONTENT_SECURITY_POLICY } from '../../../handlers/ui/create-ui.js'
import { createHandlerApp, HELLO_FLOW, type HandlerApp } from '../../support/handler-app.js'

const API_TOKEN = 'ui-unit-token-0123456789abcdef'
const ORIGIN = 'http://localhost'

interface Browser {
  cookie: string
  get(path: string): Promise<Response>
  post(path: string, form: Record<string, string>, headers?: Record<string, string>): Promise<Response>
  csrf(path: string): Promise<string>
}

/** A cookie jar of one cookie, and the browser's headers (Accept: text/html, Origin on POSTs). */
function browser(api: HandlerApp): Browser {
  const b: Browser = {
    cookie: '',
    async get(path) {
      const res = await api.app.request(path, { headers: { accept: 'text/html', cookie: b.cookie } })
      const set = res.headers.get('set-cookie')
      if (set) b.cookie = set.split(';')[0]!
      return res
    },
    async post(path, form, headers = {}) {
      const res = await api.app.request(path, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          origin: ORIGIN,
          cookie: b.cookie,
          ...headers,
        },
        body: new URLSearchParams(form).toString(),
      })
      const set = res.headers.get('set-cookie')
      if (set) b.cookie = set.split(';')[0]!
      return res
    },
    async csrf(path) {
      const html = await (await b.get(path)).text()
      const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1]
      if (token === undefined) throw new Error(`no CSRF field on ${path}:\n${html.slice(0, 500)}`)
      return token
    },
  }
  return b
}

const runTotal = async (api: HandlerApp): Promise<number> =>
  (
    (await api.send('GET', '/api/v1/runs', undefined, { headers: { authorization: `Bearer ${API_TOKEN}` } }))
      .body as { pagination: { total: number } }
  ).pagination.total

describe('dashboard with MAXQ_API_TOKEN', () => {
  let api: HandlerApp
  afterEach(async () => api?.close())

  it('sends / to /ui and a visitor without a login to the login form; refuses the rest with 401', async () => {
    api = await createHandlerApp({ apiToken: API_TOKEN })
    const root = await api.app.request('/')
    expect(root.status).toBe(302)
    expect(root.headers.get('location')).toBe('/ui')
    const page = await browser(api).get('/ui/flows')
    expect(page.status).toBe(302)
    expect(page.headers.get('location')).toBe('/ui/login?next=%2Fui%2Fflows')
    expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY)
    expect((await api.app.request('/ui/runs/any/live')).status).toBe(401)
    expect((await api.app.request('/ui/runs/any/events')).status).toBe(401)
  })

  it('logs in with the token into an HttpOnly, SameSite=Strict cookie, and logs out', async () => {
    api = await createHandlerApp({ apiToken: API_TOKEN })
    const b = browser(api)
    const csrf = await b.csrf('/ui/login')
    const wrong = await b.post('/ui/login', { _csrf: csrf, token: 'nope', next: '/ui/flows' })
    expect(wrong.status).toBe(401)
    const right = await b.post('/ui/login', { _csrf: csrf, token: API_TOKEN, next: '/ui/flows' })
    expect(right.status).toBe(303)
    expect(right.headers.get('location')).toBe('/ui/flows')
    const cookie = right.headers.get('set-cookie') ?? ''
    expect(cookie).toMatch(/HttpOnly/)
    expect(cookie).toMatch(/SameSite=Strict/)
    expect(cookie).not.toMatch(/Secure/)
    expect(cookie).not.toContain(API_TOKEN)
    const flows = await b.get('/ui/flows')
    expect(flows.status).toBe(200)
    expect(await flows.text()).toContain(HELLO_FLOW.name)

    // The login started a new session: the old CSRF token is no longer good.
    expect((await b.post('/ui/logout', { _csrf: csrf })).status).toBe(403)
    const logout = await b.post('/ui/logout', { _csrf: await b.csrf('/ui/flows') })
    expect(logout.status).toBe(303)
    expect((await b.get('/ui/flows')).status).toBe(302)
  })

  it('refuses a POST without the CSRF token, from another origin, or without the login; changes nothing', async () => {
    api = await createHandlerApp({ apiToken: API_TOKEN })
    const b = browser(api)
    const loginCsrf = await b.csrf('/ui/login')
    // Not logged in, with this session's own CSRF token: still refused.
    expect((await b.post('/ui/flows/hello/trigger', { _csrf: loginCsrf, input: '{}' })).status).toBe(401)
    await b.post('/ui/login', { _csrf: loginCsrf, token: API_TOKEN })
    const csrf = await b.csrf('/ui/flows')
    expect((await b.post('/ui/flows/hello/trigger', { input: '{}' })).status).toBe(403)
    expect((await b.post('/ui/flows/hello/trigger', { _csrf: `${csrf}x`, input: '{}' })).status).toBe(403)
    const crossSite = await b.post(
      '/ui/flows/hello/trigger',
      { _csrf: csrf, input: '{}' },
      { origin: 'https://evil.example' },
    )
    expect(crossSite.status).toBe(403)
    expect((await b.post('/ui/flows/hello/trigger', { _csrf: csrf, input: '{' })).status).toBe(400)
    expect(await runTotal(api)).toBe(0)

    const done = await b.post('/ui/flows/hello/trigger', { _csrf: csrf, input: '{"a":1}' })
    expect(done.status).toBe(303)
    expect(done.headers.get('location')).toMatch(/^\/ui\/runs\/[^/]+$/)
    expect(await runTotal(api)).toBe(1)
    const run = await b.get(done.headers.get('location')!)
    expect(run.status).toBe(200)
    expect(await run.text()).toContain('data-live-url=')
  })
})

describe('dashboard pages', () => {
  let api: HandlerApp
  afterEach(async () => api?.close())

  it('lists runs filtered by flow and status, and takes a form behind a proxy that rewrote Host', async () => {
    api = await createHandlerApp()
    const b = browser(api)
    const csrf = await b.csrf('/ui/flows')
    for (const flow of ['hello', 'hello', 'other']) {
      expect((await b.post(`/ui/flows/${flow}/trigger`, { _csrf: csrf, input: '' })).status).toBe(303)
    }
    const rows = async (query: string) =>
      ((await (await b.get(`/ui/runs${query}`)).text()).match(/<tr><td><a href="\/ui\/runs\//g) ?? []).length
    expect(await rows('')).toBe(3)
    expect(await rows('?flowName=hello')).toBe(2)
    expect(await rows('?flowName=other&status=pending')).toBe(1)
    expect(await rows('?status=completed')).toBe(0)

    const proxied = await b.post(
      '/ui/flows/other/trigger',
      { _csrf: csrf, input: '{}' },
      { origin: 'https://maxq.example.com', 'x-forwarded-host': 'maxq.example.com' },
    )
    expect(proxied.status).toBe(303)
  })
})

describe('dashboard run actions', () => {
  let api: HandlerApp
  afterEach(async () => api?.close())

  it('pauses, resumes, aborts and retries through the API, and shows what the API refused', async () => {
    api = await createHandlerApp()
    const b = browser(api)
    const csrf = await b.csrf('/ui/flows')
    const run = (await b.post('/ui/flows/hello/trigger', { _csrf: csrf, input: '' })).headers.get('location')!
    const status = async () =>
      ((await api.send('GET', `/api/v1/runs/${run.split('/').pop()}`)).body as { status: string }).status
    for (const [action, after] of [
      ['pause', 'paused'],
      ['resume', 'pending'],
      ['abort', 'failed'],
    ] as const) {
      const res = await b.post(`${run}/${action}`, { _csrf: csrf })
      expect({ action, status: res.status, location: res.headers.get('location') }).toEqual({
        action,
        status: 303,
        location: `${run}?done=${action}`,
      })
      expect(await status()).toBe(after)
    }
    const page = await (await b.get(`${run}?done=abort`)).text()
    expect(page).toContain('Abort requested')

    const refused = await b.post(`${run}/pause`, { _csrf: csrf })
    expect(refused.status).toBe(409)
    expect(await refused.text()).toContain('Could not pause')
    expect(await status()).toBe('failed')

    expect((await b.post(`${run}/retry`, { _csrf: csrf })).status).toBe(303)
    expect(await status()).not.toBe('failed')
  })
})

describe('dashboard without MAXQ_API_TOKEN', () => {
  let api: HandlerApp
  afterEach(async () => api?.close())

  it('is open, like the API, but still refuses a POST without the CSRF token', async () => {
    api = await createHandlerApp()
    const b = browser(api)
    expect((await b.get('/ui/runs')).status).toBe(200)
    expect((await b.get('/ui/login')).status).toBe(302)
    expect((await b.post('/ui/flows/hello/trigger', { input: '{}' })).status).toBe(403)
    const csrf = await b.csrf('/ui/flows')
    expect((await b.post('/ui/flows/hello/trigger', { _csrf: csrf, input: '{}' })).status).toBe(303)
  })
})
