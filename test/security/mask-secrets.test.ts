import { describe, expect, it } from 'vitest'
import { BoundedOutput } from '../../runtime/bounded-output.js'
import { maskSecrets } from '../../runtime/mask-secrets.js'
import { isSecretName, maskEnv, secretValues } from '../../security/secret-names.js'

describe('secret names', () => {
  it.each([
    'API_TOKEN',
    'db_password',
    'AWS_SECRET_ACCESS_KEY',
    'PASSWD',
    'GCP_CREDENTIALS',
    'AUTH',
    'private_pem',
  ])('%s looks secret', (name) => expect(isSecretName(name)).toBe(true))
  it.each(['SHARD', 'CITY', 'DAYS'])('%s does not', (name) => expect(isSecretName(name)).toBe(false))

  it('masks values in the env shown, and lists the values output is searched for', () => {
    const env = { SHARD: '1', API_TOKEN: 'tok-12345', PIN_PASSWORD: 'x' }
    expect(maskEnv(env)).toEqual({ SHARD: '1', API_TOKEN: '***', PIN_PASSWORD: '***' })
    expect(secretValues(env)).toEqual(['tok-12345'])
  })
})

describe('maskSecrets', () => {
  it('replaces every occurrence, the longest secret first', () => {
    expect(maskSecrets('a s3cret b s3cret-long c', ['s3cret', 's3cret-long'])).toBe('a *** b *** c')
  })

  it('leaves text without secrets, and values too short to search for, alone', () => {
    expect(maskSecrets('nothing here', ['abc', 'zzzz'])).toBe('nothing here')
  })

  it('masks the pieces of a secret cut by the omitted-bytes marker', () => {
    const secret = 'TOPSECRETVALUE'
    const out = new BoundedOutput(20)
    out.write(`${'x'.repeat(5)}${secret}${'y'.repeat(100)}${secret}${'z'.repeat(3)}`)
    const text = maskSecrets(out.toString(), [secret])
    expect(text).toContain('bytes omitted')
    for (let start = 0; start + 3 <= secret.length; start++) {
      expect(text).not.toContain(secret.slice(start, start + 3))
    }
  })
})
