// The key an unknown one was probably meant as: aliases, spelling with separators, near misses.

import { describe, expect, it } from 'vitest'
import { suggestKey } from '../../handlers/unknown-key.js'

const known = ['id', 'name', 'dependsOn', 'maxRetries', 'env', 'timeoutSeconds']
const aliases = { retries: 'maxRetries', timeout: 'timeoutSeconds', dependencies: 'dependsOn' }

describe('suggestKey', () => {
  it.each([
    ['depends_on', 'dependsOn'],
    ['DEPENDS-ON', 'dependsOn'],
    ['max_retries', 'maxRetries'],
    ['dependOn', 'dependsOn'],
    ['maxRetrys', 'maxRetries'],
    ['nme', 'name'],
    ['retries', 'maxRetries'],
    ['Timeout', 'timeoutSeconds'],
    ['dependencies', 'dependsOn'],
  ])('reads %s as %s', (key, meant) => {
    expect(suggestKey(key, known, aliases)).toBe(meant)
  })

  it('suggests nothing for a key far from every known one', () => {
    for (const key of ['command', 'x', 'priority', 'description'])
      expect(suggestKey(key, known, aliases)).toBeNull()
  })
})
