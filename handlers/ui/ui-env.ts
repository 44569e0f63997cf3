// What the dashboard's modules reach with `c.get(…)`, on top of the API's own context. The
// dashboard is a client of the API: it reads and acts through `api`, which sends the request
// through the same app with the operator's authority, so every rule the API keeps holds here too.

import type { AppEnv } from '../app-env.js'

/** An answer from the API as the dashboard reads it. */
export interface ApiAnswer<T = unknown> {
  status: number
  ok: boolean
  body: T
}

export type CallApi = <T = unknown>(method: string, path: string, body?: unknown) => Promise<ApiAnswer<T>>

/** Who is looking at the dashboard, from the session cookie (handlers/ui/session.ts). */
export interface UiSession {
  /** Random, per browser session; the CSRF token is derived from it. */
  nonce: string
  /** Logged in with MAXQ_API_TOKEN, or no token is configured. */
  authenticated: boolean
  /** Put in every form (and the client's header): a POST without it is refused. */
  csrfToken: string
}

export interface UiEnv {
  Variables: AppEnv['Variables'] & {
    session: UiSession
    /** MAXQ_API_TOKEN is configured, so the dashboard shows a login and a logout. */
    loginRequired: boolean
    api: CallApi
    /** The raw request to the API, for the event stream whose answer is passed on as it comes. */
    apiRaw: (path: string, headers?: Record<string, string>) => Promise<Response>
    /** Signs session cookies and CSRF tokens (handlers/ui/session.ts). */
    sessionMac: (text: string) => string
    /** A POST's urlencoded form, read once by the CSRF check (handlers/ui/check-csrf.ts). */
    form: URLSearchParams
  }
}

export interface UiOptions {
  /** MAXQ_API_TOKEN; undefined leaves the dashboard open, as it leaves the API. */
  apiToken: string | undefined
  /** Sends a request through the whole app (authentication, validation, the handler). */
  dispatch: (request: Request) => Promise<Response>
}
