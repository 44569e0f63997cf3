import { describe, expect, it } from 'vitest'
import { isSafeName, MAX_NAME_LENGTH } from '../../catalog/safe-name.js'

describe('isSafeName', () => {
  it('accepts plain names and rejects anything that could leave a directory', () => {
    expect(isSafeName('hello_world-2')).toBe(true)
    for (const bad of ['', '.', '..', 'a/b', '../x', 'a b', 'a.sh', 'é', 'x'.repeat(129)]) {
      expect(isSafeName(bad), bad).toBe(false)
    }
    expect(isSafeName('x'.repeat(128))).toBe(true)
    expect(MAX_NAME_LENGTH).toBe(128)
  })
})
