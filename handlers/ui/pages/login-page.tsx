// GET /ui/login, POST /ui/login and POST /ui/logout. With MAXQ_API_TOKEN set the dashboard asks
// for the token once; a right one (compared in constant time, as handlers/auth does) starts a new,
// logged-in session (handlers/ui/session.ts), a wrong one is a 401 and the form again. Without a
// token there is nothing to log in to: the login page sends the browser on.

import { Hono } from 'hono'
import { sameSecret } from '../../../security/run-token.js'
import { CsrfField, Layout, Notice } from '../layout.js'
import { renderPage } from '../render-page.js'
import { startSession } from '../session.js'
import type { UiEnv, UiSession } from '../ui-env.js'

/** Where to go after the login: a dashboard path only, never another site. */
export function safeNext(next: string | undefined): string {
  return next !== undefined && /^\/ui(\/|\?|$)/.test(next) && !next.startsWith('//') ? next : '/ui'
}

function LoginPage(props: { session: UiSession; next: string; error?: string }) {
  return (
    <Layout title="Log in" session={props.session} loginRequired={true}>
      <form method="post" action="/ui/login" class="login card">
        <h1>Log in</h1>
        <p class="muted">This MaxQ needs its API token (MAXQ_API_TOKEN).</p>
        <Notice kind="error" text={props.error} />
        <CsrfField session={props.session} />
        <input type="hidden" name="next" value={props.next} />
        <label for="token">API token</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required autofocus />
        <button type="submit">Log in</button>
      </form>
    </Layout>
  )
}

export function loginPage(apiToken: string | undefined) {
  return new Hono<UiEnv>()
    .get('/ui/login', (c) => {
      const next = safeNext(c.req.query('next'))
      if (c.get('session').authenticated) return c.redirect(next, 302)
      return renderPage(c, <LoginPage session={c.get('session')} next={next} />)
    })
    .post('/ui/login', (c) => {
      const next = safeNext(c.get('form').get('next') ?? undefined)
      if (apiToken === undefined) return c.redirect(next, 303)
      if (!sameSecret(c.get('form').get('token') ?? '', apiToken)) {
        return renderPage(
          c,
          <LoginPage session={c.get('session')} next={next} error="That is not the API token." />,
          401,
        )
      }
      startSession(c, true)
      return c.redirect(next, 303)
    })
    .post('/ui/logout', (c) => {
      startSession(c, false)
      return c.redirect(apiToken === undefined ? '/ui' : '/ui/login', 303)
    })
}
