// The dashboard reads and acts through the API itself: a request goes through the whole app
// (authentication, validation, the endpoint's handler) with MAXQ_API_TOKEN, so the dashboard can
// do nothing the API would refuse the operator, and shows the API's own errors. Only a visitor the
// session says is logged in gets here (handlers/ui/require-login.ts).

import type { ApiAnswer, UiOptions } from './ui-env.js'

export function apiCaller(options: UiOptions) {
  const headers = (extra: Record<string, string> = {}): Record<string, string> =>
    options.apiToken === undefined ? extra : { ...extra, authorization: `Bearer ${options.apiToken}` }

  const raw = (path: string, extra?: Record<string, string>): Promise<Response> =>
    options.dispatch(new Request(`http://maxq.internal/api/v1${path}`, { headers: headers(extra) }))

  const call = async <T = unknown>(method: string, path: string, body?: unknown): Promise<ApiAnswer<T>> => {
    const init: RequestInit = { method, headers: headers() }
    if (body !== undefined) {
      init.headers = headers({ 'content-type': 'application/json' })
      init.body = JSON.stringify(body)
    }
    const res = await options.dispatch(new Request(`http://maxq.internal/api/v1${path}`, init))
    const text = await res.text()
    let parsed: unknown = text
    try {
      parsed = JSON.parse(text)
    } catch {
      // Not JSON: kept as text, shown as it is.
    }
    return { status: res.status, ok: res.ok, body: parsed as T }
  }
  return { call, raw }
}
