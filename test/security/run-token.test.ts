import { describe, expect, it } from 'vitest'
import { isRunToken, runTokens, sameSecret } from '../../security/run-token.js'

describe('run tokens', () => {
  const tokens = runTokens('key-one')

  it('carry their run and verify with the key that made them', () => {
    const token = tokens.issue('0b7c9a1e-run')
    expect(isRunToken(token)).toBe(true)
    expect(tokens.verify(token)).toBe('0b7c9a1e-run')
  })

  it('do not verify with another key, altered, or re-spelled', () => {
    const token = tokens.issue('run-a')
    expect(runTokens('key-two').verify(token)).toBeNull()
    const [prefix, run, signature] = token.split('.')
    expect(tokens.verify(`${prefix}.${Buffer.from('run-b').toString('base64url')}.${signature}`)).toBeNull()
    expect(tokens.verify(`${prefix}.${run}!.${signature}`)).toBeNull()
    expect(tokens.verify(`${token}.extra`)).toBeNull()
    expect(tokens.verify(token.slice(0, -1))).toBeNull()
    expect(tokens.verify('not-a-token')).toBeNull()
  })
})

describe('sameSecret', () => {
  it('compares whole values only', () => {
    expect(sameSecret('abc', 'abc')).toBe(true)
    expect(sameSecret('abc', 'abcd')).toBe(false)
    expect(sameSecret('', 'abc')).toBe(false)
  })
})
