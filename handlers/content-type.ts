// Which request bodies we read. Every body is JSON, but the product description's own examples
// post it with plain `curl -d`, which labels it application/x-www-form-urlencoded, and a script may
// send none at all; those are read as JSON too. A type that announces another format (multipart,
// XML, …), a charset other than UTF-8, or a compressed body is 415: reading it as JSON would only
// give a confusing INVALID_JSON (docs/decisions.md, "Request bodies").

import { ApiError } from './errors.js'

/** Media types read as JSON, besides any `…/…+json`. */
export const ACCEPTED_MEDIA_TYPES: readonly string[] = [
  'application/json',
  'text/plain',
  'application/x-www-form-urlencoded',
]

const UTF8_CHARSETS = new Set(['utf-8', 'utf8', 'us-ascii'])

function unsupported(message: string, details: Record<string, string>): ApiError {
  return new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', message, {
    ...details,
    accepted: [...ACCEPTED_MEDIA_TYPES, 'application/*+json'],
  })
}

/** The 415 for a body we would not read as UTF-8 JSON, or null when it is fine. */
export function checkBodyType(
  contentType: string | undefined,
  contentEncoding: string | undefined,
): ApiError | null {
  const encoding = contentEncoding?.trim().toLowerCase() ?? ''
  if (encoding !== '' && encoding !== 'identity') {
    return unsupported(`Content-Encoding ${encoding} is not supported; send the body uncompressed`, {
      contentEncoding: encoding,
    })
  }
  if (contentType === undefined || contentType.trim() === '') return null
  const [mediaType = '', ...parameters] = contentType.split(';').map((part) => part.trim().toLowerCase())
  const isJson = ACCEPTED_MEDIA_TYPES.includes(mediaType) || /^application\/[\w.+-]+\+json$/.test(mediaType)
  if (!isJson) {
    return unsupported(`Content-Type ${mediaType} is not supported; send JSON (application/json)`, {
      contentType,
    })
  }
  const charset = parameters
    .find((parameter) => parameter.startsWith('charset='))
    ?.slice('charset='.length)
    .replace(/^"(.*)"$/, '$1')
  if (charset !== undefined && !UTF8_CHARSETS.has(charset)) {
    return unsupported(`charset ${charset} is not supported; send UTF-8`, { contentType })
  }
  return null
}
