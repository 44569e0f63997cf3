import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../cli/config.js'

const env = { MAXQ_FLOWS_ROOT: 'examples' }

describe('loadConfig: MAXQ_SPAWNER', () => {
  it('starts scripts with the posix_spawn addon by default, and with child_process on request', () => {
    expect(loadConfig(env).spawner).toBe('posix_spawn')
    expect(loadConfig({ ...env, MAXQ_SPAWNER: 'auto' }).spawner).toBe('posix_spawn')
    expect(loadConfig({ ...env, MAXQ_SPAWNER: 'posix_spawn' }).spawner).toBe('posix_spawn')
    expect(loadConfig({ ...env, MAXQ_SPAWNER: ' child_process ' }).spawner).toBe('child_process')
  })

  it('refuses another value with an error that names the variable', () => {
    expect(() => loadConfig({ ...env, MAXQ_SPAWNER: 'fork' })).toThrow(ConfigError)
    expect(() => loadConfig({ ...env, MAXQ_SPAWNER: 'fork' })).toThrow(
      'maxq: invalid MAXQ_SPAWNER: expected auto, posix_spawn, child_process',
    )
  })
})
