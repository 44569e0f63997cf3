// The CLI's client of the HTTP API. It needs only MAXQ_URL (default http://127.0.0.1:3000) and
// MAXQ_API_TOKEN, never the server's configuration, so it works from any directory and any host.
// Every failure names the URL and the reason.

export interface ClientOptions {
  /** Where MaxQ listens, with or without /api/v1. */
  url: string
  token: string | undefined
}

export class ClientError extends Error {
  constructor(
    message: string,
    /** The API's error code, when it answered one. */
    readonly code?: string,
  ) {
    super(message)
  }
}

export interface ApiClient {
  readonly base: string
  get<T>(path: string): Promise<T>
  send<T>(method: 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T>
  /** A GET whose answer the caller reads itself (an event stream); throws only when unreachable. */
  open(path: string, init: { headers: Record<string, string>; signal: AbortSignal }): Promise<Response>
}

export const DEFAULT_URL = 'http://127.0.0.1:3000'

/** MAXQ_URL as the API's base (…/api/v1); a bad URL is a ClientError that says so. */
export function apiBase(url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new ClientError(`MAXQ_URL ${JSON.stringify(url)} is not a URL (e.g. ${DEFAULT_URL})`)
  }
  const base = parsed.toString().replace(/\/+$/, '')
  return base.endsWith('/api/v1') ? base : `${base}/api/v1`
}

export function createClient(options: ClientOptions): ApiClient {
  const base = apiBase(options.url)
  const request = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const url = `${base}${path}`
    const headers: Record<string, string> = { accept: 'application/json' }
    if (body !== undefined) headers['content-type'] = 'application/json'
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
    let response: Response
    try {
      response = await fetch(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
    } catch (error) {
      throw new ClientError(
        `cannot reach MaxQ at ${url}: ${networkReason(error)} (is it running? MAXQ_URL sets where)`,
      )
    }
    const text = await response.text()
    let answer: unknown = text
    try {
      answer = text === '' ? null : JSON.parse(text)
    } catch {
      // not JSON: reported as text below
    }
    if (response.ok) return answer as T
    throw apiError(method, url, response.status, answer)
  }
  return {
    base,
    get: (path) => request('GET', path),
    send: (method, path, body) => request(method, path, body),
    open: async (path, init) => {
      const url = `${base}${path}`
      const auth: Record<string, string> =
        options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }
      try {
        return await fetch(url, { headers: { ...init.headers, ...auth }, signal: init.signal })
      } catch (error) {
        throw new ClientError(`cannot reach MaxQ at ${url}: ${networkReason(error)}`)
      }
    },
  }
}

function apiError(method: string, url: string, status: number, answer: unknown): ClientError {
  if (typeof answer === 'object' && answer !== null && 'code' in answer && 'error' in answer) {
    const { code, error, details } = answer as { code: string; error: string; details: unknown }
    const more = details === null || details === undefined ? '' : `\n  details: ${JSON.stringify(details)}`
    const hint = status === 401 ? "\n  (set MAXQ_API_TOKEN to the server's token)" : ''
    return new ClientError(`${method} ${url}: ${status} ${code}: ${error}${more}${hint}`, code)
  }
  return new ClientError(`${method} ${url}: HTTP ${status}: ${String(answer).slice(0, 200)}`)
}

/** What went wrong below HTTP, in words: undici hides the system error in `cause`. */
function networkReason(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error
  const code = typeof cause === 'object' && cause !== null && 'code' in cause ? String(cause.code) : ''
  const words: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ENOTFOUND: 'no such host',
    ETIMEDOUT: 'timed out',
    ECONNRESET: 'connection reset',
    EHOSTUNREACH: 'host unreachable',
  }
  const message = cause instanceof Error ? cause.message : String(cause)
  return code in words ? `${words[code]} (${code})` : message
}
