// The web dashboard at /ui: server-rendered pages (hono/jsx), one module per page or action, a
// stylesheet and a client script as files. It reads and acts through the API itself (call-api.ts),
// behind a token login when MAXQ_API_TOKEN is set (session.ts, require-login.ts), and every POST
// is CSRF-checked (check-csrf.ts). `GET /` sends a browser here.

import { Hono } from 'hono'
import { retryStepAction } from './actions/retry-step.js'
import { runActions } from './actions/run-actions.js'
import { triggerFlow } from './actions/trigger-flow.js'
import { apiCaller } from './call-api.js'
import { checkCsrf } from './check-csrf.js'
import { runEvents } from './live/run-events.js'
import { flowsPage } from './pages/flows-page.js'
import { loginPage } from './pages/login-page.js'
import { runPageRoutes } from './pages/run-page.js'
import { runsPage } from './pages/runs-page.js'
import { stepPageRoutes } from './pages/step-page.js'
import { requireLogin } from './require-login.js'
import { uiSession } from './session.js'
import { staticFiles } from './static/static-files.js'
import type { UiEnv, UiOptions } from './ui-env.js'

/**
 * Scripts and styles from this origin's files only: no inline script, no inline style, no
 * framing, forms posted only here. Whatever a step printed is text in the page (hono/jsx escapes
 * it); if it ever were not, this policy still would not run it.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

export function createUi(options: UiOptions): Hono<UiEnv> {
  const api = apiCaller(options)
  const ui = new Hono<UiEnv>()
  ui.get('/', (c) => c.redirect('/ui', 302))
  ui.use('/ui/*', async (c, next) => {
    await next()
    c.header('Content-Security-Policy', CONTENT_SECURITY_POLICY)
    c.header('X-Content-Type-Options', 'nosniff')
    c.header('Referrer-Policy', 'same-origin')
    c.header('X-Frame-Options', 'DENY')
    if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store')
  })
  ui.route('/', staticFiles)
  ui.use('/ui/*', async (c, next) => {
    c.set('loginRequired', options.apiToken !== undefined)
    c.set('api', api.call)
    c.set('apiRaw', api.raw)
    await next()
  })
  ui.use('/ui/*', uiSession(options.apiToken))
  ui.use('/ui/*', checkCsrf)
  ui.route('/', loginPage(options.apiToken))
  ui.use('/ui/*', requireLogin)
  ui.get('/ui', (c) => c.redirect('/ui/runs', 302))
  ui.route('/', flowsPage)
  ui.route('/', triggerFlow)
  ui.route('/', runsPage)
  ui.route('/', runActions)
  ui.route('/', runEvents)
  ui.route('/', retryStepAction)
  ui.route('/', stepPageRoutes)
  ui.route('/', runPageRoutes)
  ui.all('/ui/*', (c) => c.text('Not found', 404))
  return ui
}
