// The page around every dashboard page: one stylesheet, one deferred client script, the
// navigation, and the logout form when a login is needed. Text is escaped by hono/jsx; nothing
// here or below ever writes raw HTML.

import type { Child } from 'hono/jsx'
import type { UiSession } from './ui-env.js'

export interface LayoutProps {
  title: string
  session: UiSession
  loginRequired: boolean
  /** Which navigation entry is the current page. */
  section?: 'flows' | 'runs'
  children?: Child
}

export function Layout(props: LayoutProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · MaxQ`}</title>
        <link rel="stylesheet" href="/ui/static/dashboard.css" />
        <script type="module" src="/ui/static/dashboard.js"></script>
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/ui">
            MaxQ
          </a>
          {props.session.authenticated && (
            <nav>
              <a href="/ui/flows" class={props.section === 'flows' ? 'current' : undefined}>
                Flows
              </a>
              <a href="/ui/runs" class={props.section === 'runs' ? 'current' : undefined}>
                Runs
              </a>
            </nav>
          )}
          {props.loginRequired && props.session.authenticated && (
            <form method="post" action="/ui/logout" class="logout">
              <CsrfField session={props.session} />
              <button type="submit">Log out</button>
            </form>
          )}
        </header>
        <main>{props.children}</main>
      </body>
    </html>
  )
}

export function CsrfField(props: { session: UiSession }) {
  return <input type="hidden" name="_csrf" value={props.session.csrfToken} />
}

/** A message above a page's content: what an action did, or why it was refused. */
export function Notice(props: { kind: 'error' | 'ok'; text: string | undefined; details?: unknown }) {
  if (props.text === undefined || props.text === '') return null
  return (
    <div class={`notice ${props.kind}`} role={props.kind === 'error' ? 'alert' : 'status'}>
      {props.text}
      {props.details !== undefined && props.details !== null && (
        <pre>{JSON.stringify(props.details, null, 2)}</pre>
      )}
    </div>
  )
}

export function StatusBadge(props: { status: string }) {
  return <span class={`badge status-${props.status}`}>{props.status}</span>
}
