// Turns the bytes of a request body into a JSON value, refusing what we could not store faithfully
// or safely: bytes that are not UTF-8, JSON nested deeper than MAX_JSON_DEPTH, keys that name an
// object's prototype machinery, strings with NUL or unpaired surrogates, and numbers too large for a
// double (JSON.parse reads 1e400 as Infinity, which would be stored as null). Every refusal is a 400
// before any handler runs, so nothing reaches the store.

import { invalidJson, validationFailed } from './errors.js'

/** Deepest nesting of arrays and objects in a body; the body object itself is level 1. */
export const MAX_JSON_DEPTH = 64

/**
 * Keys refused anywhere in a body. JSON.parse makes them plain own properties, but code that
 * later copies or merges the value (spread, Object.assign, a deep merge in a client) can turn
 * `__proto__` into a prototype change; none of them is a sensible field name, so they never get in.
 */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype'])

// Fatal: a byte sequence that is not UTF-8 (overlong forms and encoded surrogates included) throws
// instead of turning into U+FFFD, which would store something the client never sent.
const utf8 = new TextDecoder('utf-8', { fatal: true })

const LONE_SURROGATE = /[\uD800-\uDFFF]/u

/** An empty (or all-whitespace) body is `{}`: `curl -X POST` with no data is a valid request. */
export function parseJsonBody(bytes: Uint8Array): unknown {
  let text: string
  try {
    text = utf8.decode(bytes)
  } catch {
    throw invalidJson('body is not valid UTF-8')
  }
  if (text.trim() === '') return {}
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw invalidJson(err instanceof Error ? err.message : String(err))
  }
  const problem = findProblem(value)
  if (problem !== null) throw validationFailed([problem])
  return value
}

interface Pending {
  value: unknown
  path: string
  depth: number
}

const join = (path: string, key: string | number): string => (path === '' ? String(key) : `${path}.${key}`)

/**
 * The first thing in `value` we refuse, with its dot path. Iterative, so a body nested 100,000
 * levels deep (JSON.parse itself does not recurse) is answered instead of overflowing the stack.
 */
function findProblem(root: unknown): { path: string; message: string } | null {
  const stack: Pending[] = [{ value: root, path: '', depth: 0 }]
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const { value, path, depth } = next
    if (typeof value === 'string') {
      const message = stringProblem(value)
      if (message !== null) return { path, message }
      continue
    }
    if (typeof value === 'number' && !Number.isFinite(value)) {
      return { path, message: 'number is too large to be represented' }
    }
    if (typeof value !== 'object' || value === null) continue
    if (depth + 1 > MAX_JSON_DEPTH) {
      return { path, message: `JSON is nested deeper than ${MAX_JSON_DEPTH} levels` }
    }
    if (Array.isArray(value)) {
      value.forEach((item, index) => stack.push({ value: item, path: join(path, index), depth: depth + 1 }))
      continue
    }
    for (const [key, item] of Object.entries(value)) {
      const keyPath = join(path, key)
      if (FORBIDDEN_KEYS.has(key)) return { path: keyPath, message: `"${key}" is not allowed as a key` }
      const message = stringProblem(key)
      if (message !== null) return { path: keyPath, message: `key ${message}` }
      stack.push({ value: item, path: keyPath, depth: depth + 1 })
    }
  }
  return null
}

function stringProblem(text: string): string | null {
  // PostgreSQL text and JSONB cannot hold NUL; refuse it the same way on every database.
  if (text.includes('\u0000')) return 'must not contain NUL characters (\\u0000)'
  // "\ud800" is valid JSON but no UTF-8 text: PostgreSQL refuses it, SQLite would store U+FFFD.
  if (LONE_SURROGATE.test(text)) return 'must not contain unpaired surrogates (\\ud800-\\udfff)'
  return null
}
