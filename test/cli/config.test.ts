import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import {
  apiBaseFrom,
  ConfigError,
  databaseConfig,
  loadConfig,
  SETTINGS,
  settingsHelp,
} from '../../cli/config.js'
import { NATIVE_SKIP_NOTE, skipWithoutNative } from '../support/spawner.js'

const env = { MAXQ_FLOWS_ROOT: 'examples' }

describe('loadConfig: MAXQ_SPAWNER', () => {
  it('starts scripts with the posix_spawn addon by default, and with child_process on request', (context) => {
    skipWithoutNative(context)
    expect(loadConfig(env).spawner).toBe('posix_spawn')
    expect(loadConfig({ ...env, MAXQ_SPAWNER: 'auto' }).spawner).toBe('posix_spawn')
    expect(loadConfig({ ...env, MAXQ_SPAWNER: 'posix_spawn' }).spawner).toBe('posix_spawn')
    expect(loadConfig({ ...env, MAXQ_SPAWNER: ' child_process ' }).spawner).toBe('child_process')
  })

  it.runIf(NATIVE_SKIP_NOTE !== null)('falls back to child_process where the addon cannot load', () => {
    expect(loadConfig(env).spawner).toBe('child_process')
    expect(() => loadConfig({ ...env, MAXQ_SPAWNER: 'posix_spawn' })).toThrow(
      /maxq: invalid MAXQ_SPAWNER: .*cannot load/,
    )
  })

  it('refuses another value with an error that names the variable', () => {
    expect(() => loadConfig({ ...env, MAXQ_SPAWNER: 'fork' })).toThrow(ConfigError)
    expect(() => loadConfig({ ...env, MAXQ_SPAWNER: 'fork' })).toThrow(
      'maxq: invalid MAXQ_SPAWNER: expected auto, posix_spawn, child_process',
    )
  })
})

describe('loadConfig: lost attempts and retry delays (issue 17)', () => {
  it('re-queues 3 lost attempts and retries at once by default', () => {
    expect(loadConfig(env)).toMatchObject({
      maxLostAttempts: 3,
      retryDefaults: { retryDelayMs: 0, retryBackoff: 'exponential' },
    })
  })

  it('reads MAXQ_MAX_LOST_ATTEMPTS, MAXQ_RETRY_DELAY_SECONDS and MAXQ_RETRY_BACKOFF', () => {
    const config = loadConfig({
      ...env,
      MAXQ_MAX_LOST_ATTEMPTS: '0',
      MAXQ_RETRY_DELAY_SECONDS: '15',
      MAXQ_RETRY_BACKOFF: ' Fixed ',
    })
    expect(config).toMatchObject({
      maxLostAttempts: 0,
      retryDefaults: { retryDelayMs: 15_000, retryBackoff: 'fixed' },
    })
  })

  it('refuses values out of range or unknown', () => {
    expect(() => loadConfig({ ...env, MAXQ_MAX_LOST_ATTEMPTS: '-1' })).toThrow('MAXQ_MAX_LOST_ATTEMPTS')
    expect(() => loadConfig({ ...env, MAXQ_RETRY_DELAY_SECONDS: '86401' })).toThrow(
      'MAXQ_RETRY_DELAY_SECONDS',
    )
    expect(() => loadConfig({ ...env, MAXQ_RETRY_BACKOFF: 'linear' })).toThrow(
      'maxq: invalid MAXQ_RETRY_BACKOFF: expected fixed or exponential, got "linear"',
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
      'maxq: invalid MAXQ_MAX_BODY_BYTES: expected a whole number from 1024 to 1073741824, got "1MiB"',
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

describe('loadConfig: every setting in one place', () => {
  it('reads exactly the settings SETTINGS lists, and nothing else of the environment', () => {
    const read = new Set<string>()
    const recorder = new Proxy(env as Record<string, string | undefined>, {
      get: (target, name: string) => {
        read.add(name)
        return target[name]
      },
    })
    loadConfig(recorder)
    apiBaseFrom(recorder, '0.0.0.0', 3000)
    expect([...read].sort()).toEqual(SETTINGS.map((setting) => setting.name).sort())
  })

  it('gives the defaults SETTINGS shows', () => {
    const config = loadConfig(env)
    const shown = Object.fromEntries(SETTINGS.map((setting) => [setting.name, setting.default]))
    expect({
      MAXQ_SQLITE_PATH: config.sqlitePath,
      MAXQ_DATABASE_POOL_SIZE: config.databasePoolSize,
      MAXQ_PORT: config.port,
      MAXQ_SCHEDULER_INTERVAL_MS: config.intervalMs,
      MAXQ_SCHEDULER_BATCH_SIZE: config.batchSize,
      MAXQ_MAX_CONCURRENT_STEPS: config.maxConcurrentSteps,
      MAXQ_ABORT_GRACE_MS: config.abortGraceMs,
      MAXQ_LEASE_MS: config.leaseMs,
      MAXQ_MAX_BODY_BYTES: config.maxBodyBytes,
      MAXQ_MAX_FIELDS_BYTES: config.maxFieldsBytes,
      LOG_LEVEL: config.logLevel,
    }).toEqual({
      MAXQ_SQLITE_PATH: path.resolve(shown.MAXQ_SQLITE_PATH ?? ''),
      MAXQ_DATABASE_POOL_SIZE: Number(shown.MAXQ_DATABASE_POOL_SIZE),
      MAXQ_PORT: Number(shown.MAXQ_PORT),
      MAXQ_SCHEDULER_INTERVAL_MS: Number(shown.MAXQ_SCHEDULER_INTERVAL_MS),
      MAXQ_SCHEDULER_BATCH_SIZE: Number(shown.MAXQ_SCHEDULER_BATCH_SIZE),
      MAXQ_MAX_CONCURRENT_STEPS: Number(shown.MAXQ_MAX_CONCURRENT_STEPS),
      MAXQ_ABORT_GRACE_MS: Number(shown.MAXQ_ABORT_GRACE_MS),
      MAXQ_LEASE_MS: Number(shown.MAXQ_LEASE_MS),
      MAXQ_MAX_BODY_BYTES: Number(shown.MAXQ_MAX_BODY_BYTES),
      MAXQ_MAX_FIELDS_BYTES: Number(shown.MAXQ_MAX_FIELDS_BYTES),
      LOG_LEVEL: shown.LOG_LEVEL,
    })
    expect(loadConfig(env).host).toBe('0.0.0.0')
    expect(loadConfig(env, { host: '127.0.0.1' }).host).toBe('127.0.0.1')
    expect(path.relative(process.cwd(), loadConfig({}).flowsRoot)).toBe('examples')
  })

  it('lists every setting with its default in maxq --help', () => {
    const help = settingsHelp()
    for (const setting of SETTINGS) {
      expect(help).toMatch(new RegExp(`^  ${setting.name} .* \\[${escape(setting.default)}\\]$`, 'm'))
    }
  })

  it('lists every setting, in the same order, in docs/configuration.md', () => {
    const variables = section(configurationDoc, 'Variables')
    const documented = [...variables.matchAll(/^\| `([A-Z_]+)` +\|/gm)].map((match) => match[1])
    expect(documented).toEqual(SETTINGS.map((setting) => setting.name))
  })

  it('prints exactly the messages docs/configuration.md quotes', () => {
    const rows = [...section(configurationDoc, 'Messages').matchAll(/^\| `([^`]+)` +\| `([^`]+)` +\|$/gm)]
    expect(rows.length).toBeGreaterThan(10)
    for (const [, assignments = '', message = ''] of rows) {
      const given = Object.fromEntries(assignments.split(' ').map((a) => a.split('=', 2) as [string, string]))
      expect(() => loadConfig({ ...env, ...given }), assignments).toThrow(ConfigError)
      expect(() => loadConfig({ ...env, ...given }), assignments).toThrow(message)
    }
  })
})

describe('loadConfig: MAXQ_DATABASE_POOL_SIZE', () => {
  it('is 10 by default and is handed to the database as poolSize', () => {
    expect(databaseConfig(loadConfig(env)).poolSize).toBe(10)
    expect(databaseConfig(loadConfig({ ...env, MAXQ_DATABASE_POOL_SIZE: ' 3 ' }))).toMatchObject({
      poolSize: 3,
    })
  })

  it('refuses anything but a whole number from 1 to 1000', () => {
    for (const bad of ['0', '-1', '2.5', 'ten', '1001']) {
      expect(() => loadConfig({ ...env, MAXQ_DATABASE_POOL_SIZE: bad }), bad).toThrow(
        `maxq: invalid MAXQ_DATABASE_POOL_SIZE: expected a whole number from 1 to 1000, got ${JSON.stringify(bad)}`,
      )
    }
  })
})

describe('maxq with a bad setting', () => {
  const cli = path.join(repoRoot, 'bin', 'maxq.js')
  const built = existsSync(path.join(repoRoot, 'dist', 'cli', 'main.js'))

  // `npm test` builds first; a bare `vitest run` on a fresh checkout has no dist/ to run.
  it.skipIf(!built)('prints the one line the docs quote and exits 1', () => {
    const result = spawnSync(process.execPath, [cli, 'serve'], {
      env: { PATH: process.env.PATH, MAXQ_FLOWS_ROOT: 'examples', MAXQ_PORT: '30x0' },
      cwd: repoRoot,
      encoding: 'utf8',
    })
    expect(result.status).toBe(1)
    expect(result.stderr).toBe(
      'maxq: invalid MAXQ_PORT: expected a whole number from 0 to 65535, got "30x0"\n',
    )
  })
})

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const configurationDoc = readFileSync(path.join(repoRoot, 'docs', 'configuration.md'), 'utf8')

/** The text of a `## title` section of a markdown page. */
function section(markdown: string, title: string): string {
  const start = markdown.indexOf(`\n## ${title}\n`)
  if (start === -1) throw new Error(`no section ${title}`)
  const end = markdown.indexOf('\n## ', start + 1)
  return markdown.slice(start, end === -1 ? undefined : end)
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
