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

describe('loadConfig: body limits', () => {
  it('defaults to 1 MiB for bodies and 8 MiB for fields posts', () => {
    expect(loadConfig(env)).toMatchObject({ maxBodyBytes: 1024 * 1024, maxFieldsBytes: 8 * 1024 * 1024 })
  })

  it('reads MAXQ_MAX_BODY_BYTES and MAXQ_MAX_FIELDS_BYTES', () => {
    expect(
      loadConfig({ ...env, MAXQ_MAX_BODY_BYTES: '65536', MAXQ_MAX_FIELDS_BYTES: '131072' }),
    ).toMatchObject({ maxBodyBytes: 65536, maxFieldsBytes: 131072 })
    // A body limit above the fields default raises the fields limit with it.
    expect(loadConfig({ ...env, MAXQ_MAX_BODY_BYTES: String(16 * 1024 * 1024) }).maxFieldsBytes).toBe(
      16 * 1024 * 1024,
    )
  })

  it('refuses values that are not whole numbers, out of range, or a fields limit below the body limit', () => {
    expect(() => loadConfig({ ...env, MAXQ_MAX_BODY_BYTES: '1MiB' })).toThrow(
      'maxq: invalid MAXQ_MAX_BODY_BYTES: "1MiB" is not a whole number',
    )
    expect(() => loadConfig({ ...env, MAXQ_MAX_BODY_BYTES: '10' })).toThrow('MAXQ_MAX_BODY_BYTES')
    expect(() => loadConfig({ ...env, MAXQ_MAX_FIELDS_BYTES: String(2 ** 40) })).toThrow(
      'MAXQ_MAX_FIELDS_BYTES',
    )
    expect(() => loadConfig({ ...env, MAXQ_MAX_BODY_BYTES: '65536', MAXQ_MAX_FIELDS_BYTES: '4096' })).toThrow(
      'maxq: invalid MAXQ_MAX_FIELDS_BYTES: 4096 is below MAXQ_MAX_BODY_BYTES (65536)',
    )
  })
})
