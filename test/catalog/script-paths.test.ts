import { describe, expect, it } from 'vitest'
import { scriptPaths } from '../../catalog/script-paths.js'

describe('scriptPaths', () => {
  it('places flows and steps under the root', () => {
    expect(scriptPaths('/flows', 'hello')).toEqual({ command: '/flows/hello/flow.sh', cwd: '/flows/hello' })
    expect(scriptPaths('/flows', 'hello', 'greet')).toEqual({
      command: '/flows/hello/steps/greet/step.sh',
      cwd: '/flows/hello/steps/greet',
    })
  })

  it('refuses names that could escape the root', () => {
    expect(() => scriptPaths('/flows', '..')).toThrow(RangeError)
    expect(() => scriptPaths('/flows', 'hello', '../../etc')).toThrow(RangeError)
  })
})
