// Every POST to the dashboard changes something (trigger, abort, retry, pause, resume, login,
// logout), so every POST must come from the dashboard's own pages. Two independent checks, besides
// the SameSite=Strict cookie: the browser's Origin (or, lacking it, Referer) must be this host, and
// the form's `_csrf` field (or the `X-CSRF-Token` header) must be this session's CSRF token. A
// refused POST reads no further and changes nothing.

import type { Context, MiddlewareHandler } from 'hono'
import type { AppEnv } from '../app-env.js'
import { readBody } from '../read-body.js'
import { sameSecret } from '../../security/run-token.js'
import type { UiEnv } from './ui-env.js'

/**
 * The page that sent the form is on this host: the Host the request came to, or the one a reverse
 * proxy says it came to (X-Forwarded-Host, which a page on another site cannot set on a form post).
 */
function sameHost(c: Context<UiEnv>): boolean {
  const from = c.req.header('origin') ?? c.req.header('referer')
  if (from === undefined || from === 'null') return false
  const hosts = [c.req.header('host') ?? new URL(c.req.url).host]
  const forwarded = c.req.header('x-forwarded-host')?.split(',')[0]?.trim()
  if (forwarded) hosts.push(forwarded)
  try {
    return hosts.includes(new URL(from).host)
  } catch {
    return false
  }
}

export const checkCsrf: MiddlewareHandler<UiEnv> = async (c, next) => {
  if (c.req.method !== 'POST') return next()
  if (!sameHost(c)) return c.text('Refused: this form was not sent from this dashboard (Origin).', 403)
  const type = c.req.header('content-type') ?? ''
  if (!/^application\/x-www-form-urlencoded\b/i.test(type)) {
    return c.text('Refused: the dashboard takes application/x-www-form-urlencoded forms.', 415)
  }
  // A dashboard form holds a few fields and a JSON input: the API's body limit is plenty. readBody
  // is written for the API's context; the dashboard's only adds variables to it.
  const bytes = await readBody(c as unknown as Context<AppEnv>, c.get('maxBodyBytes'))
  const form = new URLSearchParams(bytes.toString('utf8'))
  const token = form.get('_csrf') ?? c.req.header('x-csrf-token') ?? ''
  if (!sameSecret(token, c.get('session').csrfToken)) {
    return c.text('Refused: the form has no valid CSRF token. Reload the page and try again.', 403)
  }
  c.set('form', form)
  return next()
}
