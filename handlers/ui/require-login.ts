// With MAXQ_API_TOKEN set, the dashboard shows nothing and does nothing before the login: a page
// sends the browser to the login form (and back afterwards), anything else is a 401.

import type { MiddlewareHandler } from 'hono'
import type { UiEnv } from './ui-env.js'

export const requireLogin: MiddlewareHandler<UiEnv> = async (c, next) => {
  if (c.get('session').authenticated) return next()
  if (c.req.method === 'GET' && (c.req.header('accept') ?? '').includes('text/html')) {
    const url = new URL(c.req.url)
    return c.redirect(`/ui/login?next=${encodeURIComponent(url.pathname + url.search)}`, 302)
  }
  return c.text('Log in first: the dashboard needs MAXQ_API_TOKEN.', 401)
}
