// Refuses a URL whose path or query cannot be read as text, for every route at once: a segment
// or query value that is not valid percent-encoded UTF-8 (`%ff`, `%E0%A4%A`, an encoded surrogate),
// or that decodes to a control character (NUL, which PostgreSQL cannot hold, newlines, escapes).
// Hono would hand such a value on undecoded or as it is; here it is a 400 before any handler runs,
// including query keys no handler reads.

import { createMiddleware } from 'hono/factory'
import type { AppEnv } from './app-env.js'
import { validationFailed, type InvalidField } from './errors.js'
import { isPrintable } from './shared-schemas.js'

function decoded(text: string): string | null {
  try {
    return decodeURIComponent(text)
  } catch {
    return null
  }
}

function textProblem(raw: string, where: string): InvalidField | null {
  const text = decoded(raw)
  if (text === null) return { path: where, message: 'is not valid percent-encoded UTF-8' }
  if (!isPrintable(text)) return { path: where, message: 'must not contain control characters' }
  return null
}

/** Visible ASCII but `%`: nothing to decode, and nothing that could decode to a control character. */
const PLAIN_URL = /^[!-$&-~]*$/

/** The first part of the URL that is not text, or null. `url` is absolute, as `c.req.url` is. */
export function urlProblem(url: string): InvalidField | null {
  if (PLAIN_URL.test(url)) return null
  const pathStart = url.indexOf('/', url.indexOf('//') + 2)
  const queryStart = url.indexOf('?', pathStart)
  const hashStart = url.indexOf('#', pathStart)
  const pathEnd = queryStart === -1 ? (hashStart === -1 ? url.length : hashStart) : queryStart
  for (const segment of url.slice(pathStart, pathEnd).split('/')) {
    const problem = textProblem(segment, 'url')
    if (problem !== null) return { ...problem, message: `path segment ${problem.message}` }
  }
  if (queryStart === -1) return null
  const search = url.slice(queryStart + 1, hashStart > queryStart ? hashStart : url.length)
  for (const pair of search.split('&')) {
    const [key = '', value = ''] = pair.replaceAll('+', ' ').split(/=(.*)/s)
    const keyText = decoded(key) ?? key
    const problem = textProblem(key, keyText) ?? textProblem(value, keyText)
    if (problem !== null) return problem
  }
  return null
}

export const checkUrl = createMiddleware<AppEnv>(async (c, next) => {
  const problem = urlProblem(c.req.url)
  if (problem !== null) throw validationFailed([problem])
  await next()
})
