// The dashboard's session, kept in one cookie and held by no process, so any number of API
// processes can serve it: `<nonce>.<issuedAt>.<a|u>.<mac>`, where the MAC is an HMAC keyed by the
// store's secret key (the one run tokens use) over the nonce, the issue time, whether the holder
// logged in, and a digest of MAXQ_API_TOKEN, so changing the token logs everyone out. The cookie
// never holds the token itself. Every visitor gets a session, logged in or not, because the CSRF
// token of the login form is derived from it (handlers/ui/check-csrf.ts).

import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Context, MiddlewareHandler } from 'hono'
import { getCookie, setCookie } from 'hono/cookie'
import type { UiEnv, UiSession } from './ui-env.js'

export const SESSION_COOKIE = 'maxq_ui'

/** A login lasts a working day; then the token is asked for again. */
export const SESSION_MAX_AGE_MS = 12 * 60 * 60 * 1000

type Mac = (text: string) => string

function sessionMac(storeKey: string, apiToken: string | undefined): Mac {
  const key = createHmac('sha256', storeKey).update('maxq-ui-session').digest()
  const tokenDigest = createHash('sha256')
    .update(apiToken ?? '')
    .digest('base64url')
  return (text) => createHmac('sha256', key).update(`${text}\n${tokenDigest}`).digest('base64url')
}

function sameMac(given: string, expected: string): boolean {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

function readSession(value: string | undefined, mac: Mac, now: number) {
  const parts = value?.split('.') ?? []
  if (parts.length !== 4) return null
  const [nonce = '', issued = '', flag = '', given = ''] = parts
  if (!sameMac(given, mac(`session\n${nonce}\n${issued}\n${flag}`))) return null
  const issuedAt = Number.parseInt(issued, 36)
  if (!(issuedAt <= now && now - issuedAt < SESSION_MAX_AGE_MS)) return null
  return { nonce, loggedIn: flag === 'a' }
}

/** Starts a new session (a new nonce, so a new CSRF token): at first sight, login and logout. */
export function startSession(c: Context<UiEnv>, loggedIn: boolean): void {
  const mac = c.get('sessionMac')
  const nonce = randomBytes(18).toString('base64url')
  const issued = c.get('clock').now().toString(36)
  const flag = loggedIn ? 'a' : 'u'
  const https =
    new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto')?.split(',')[0] === 'https'
  setCookie(c, SESSION_COOKIE, `${nonce}.${issued}.${flag}.${mac(`session\n${nonce}\n${issued}\n${flag}`)}`, {
    path: '/ui',
    httpOnly: true,
    sameSite: 'Strict',
    secure: https,
    maxAge: Math.floor(SESSION_MAX_AGE_MS / 1000),
  })
  setSession(c, nonce, loggedIn)
}

function setSession(c: Context<UiEnv>, nonce: string, loggedIn: boolean): void {
  const session: UiSession = {
    nonce,
    authenticated: loggedIn || !c.get('loginRequired'),
    csrfToken: c.get('sessionMac')(`csrf\n${nonce}`),
  }
  c.set('session', session)
}

/** Reads the session cookie, or starts a session; sets `c.get('session')`. */
export function uiSession(apiToken: string | undefined): MiddlewareHandler<UiEnv> {
  return async (c, next) => {
    c.set('sessionMac', sessionMac(await c.get('store').runTokenKey(), apiToken))
    const found = readSession(getCookie(c, SESSION_COOKIE), c.get('sessionMac'), c.get('clock').now())
    if (found === null) startSession(c, false)
    else setSession(c, found.nonce, found.loggedIn)
    await next()
  }
}
