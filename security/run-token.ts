// Run tokens: what a flow or step process gets as MAXQ_TOKEN. A token names one run and is signed
// with the installation's key (HMAC-SHA256), so any API process checks it without a lookup: it
// proves "this request comes from a script of run X" and nothing more.
//
//   maxq-run.<run id, base64url>.<signature, base64url>

import { createHmac, timingSafeEqual } from 'node:crypto'

const PREFIX = 'maxq-run.'

export interface RunTokens {
  /** The token for a run's scripts. */
  issue(runId: string): string
  /** The run a token was issued for; null when it is not a run token or its signature is wrong. */
  verify(token: string): string | null
}

export function runTokens(key: string): RunTokens {
  const sign = (runId: string): Buffer => createHmac('sha256', key).update(`run\0${runId}`).digest()
  return {
    issue: (runId) =>
      `${PREFIX}${Buffer.from(runId).toString('base64url')}.${sign(runId).toString('base64url')}`,
    verify: (token) => {
      if (!isRunToken(token)) return null
      const parts = token.slice(PREFIX.length).split('.')
      if (parts.length !== 2) return null
      const [encodedRun = '', signature = ''] = parts
      const runId = Buffer.from(encodedRun, 'base64url').toString('utf8')
      // One spelling per run: base64url decoding skips stray characters, re-encoding does not.
      if (runId === '' || Buffer.from(runId).toString('base64url') !== encodedRun) return null
      const given = Buffer.from(signature, 'base64url')
      const expected = sign(runId)
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null
      return runId
    },
  }
}

/** Whether a bearer token is meant as a run token (it may still be forged). */
export function isRunToken(token: string): boolean {
  return token.startsWith(PREFIX)
}

/** Compares two secrets in time that depends on neither (digests first, so lengths do not leak). */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string): Buffer => createHmac('sha256', 'maxq-compare').update(text).digest()
  return timingSafeEqual(digest(given), digest(expected))
}
