// Configuration comes from the environment only, and this file is the only one that reads it: every
// setting is parsed here and handed down explicitly (the database pool size to db/open-dialect.ts,
// the body limits to the app, the rest to the worker). A bad value stops start-up with one line
// that names the variable, before anything is opened or started. SETTINGS is what `maxq --help`
// prints; docs/configuration.md explains each setting at length.

import { existsSync, statSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { randomBytes } from 'node:crypto'
import { DEFAULT_POOL_SIZE, DEFAULT_SQLITE_PATH, type DatabaseConfig } from '../db/open-dialect.js'
import type { StoreOptions } from '../db/sql-store.js'
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_FIELDS_BYTES } from '../handlers/app-env.js'
import { isRunToken } from '../security/run-token.js'
import { NO_WORKER_WARN_AFTER_MS } from './no-worker-warning.js'
import { DEFAULT_ABORT_GRACE_MS } from '../runtime/limits.js'
import {
  DEFAULT_MAX_LOST_ATTEMPTS,
  MAX_RETRY_DELAY_SECONDS,
  RETRY_BACKOFFS,
  type RetryBackoff,
  type RetryPolicy,
} from '../db/rules/decide-attempt.js'
import {
  resolveSpawner,
  SPAWNER_CHOICES,
  type Spawner,
  type SpawnerChoice,
} from '../runtime/spawn-detached.js'

export interface Config {
  flowsRoot: string
  databaseUrl: string | undefined
  sqlitePath: string
  /** MAXQ_DATABASE_POOL_SIZE: PostgreSQL connections per process. */
  databasePoolSize: number
  port: number
  host: string
  intervalMs: number
  batchSize: number
  maxConcurrentSteps: number
  abortGraceMs: number
  leaseMs: number
  /** MAXQ_MAX_LOST_ATTEMPTS: lost attempts (expired leases) of one step or flow call re-queued before it fails. */
  maxLostAttempts: number
  /** MAXQ_RETRY_DELAY_SECONDS, MAXQ_RETRY_BACKOFF: a step's retry delay when its definition gives none. */
  retryDefaults: RetryPolicy
  /** What scripts get as MAXQ_API, and where supervisors report: always ends in /api/v1. */
  apiBase: string
  logLevel: 'debug' | 'info' | 'warn' | 'error'
  /** LOG_FORMAT: lines for people, or one JSON object per line. */
  logFormat: 'text' | 'json'
  workerId: string
  /** How scripts are started (MAXQ_SPAWNER resolved: auto picks posix_spawn when the addon loads). */
  spawner: Spawner
  /** MAXQ_RUNTIME_DIR: where this host's supervisors record the process groups they run. */
  runtimeDir: string
  /** MAXQ_API_TOKEN: required as `Authorization: Bearer` on every route but /health when set. */
  apiToken: string | undefined
  /** MAXQ_PASSTHROUGH_ENV: names of the server's variables that scripts also get. */
  passthroughEnv: string[]
  /** MAXQ_MAX_BODY_BYTES: largest request body (413 above it). */
  maxBodyBytes: number
  /** MAXQ_MAX_FIELDS_BYTES: largest fields post, at least maxBodyBytes. */
  maxFieldsBytes: number
  /** MAXQ_RETENTION_DAYS: finished runs older than this are deleted by the tick; undefined keeps all. */
  retentionDays: number | undefined
  /** MAXQ_METRICS_PUBLIC: GET /metrics needs no token even where MAXQ_API_TOKEN is set. */
  metricsPublic: boolean
  /** MAXQ_METRICS_PORT: `maxq tick --watch` serves its own GET /metrics there; undefined: it does not. */
  metricsPort: number | undefined
  /** MAXQ_NO_WORKER_WARNING_MS: `maxq serve` warns after runs waited this long with no live worker. */
  noWorkerWarningMs: number
}

export interface ConfigDefaults {
  /** The local runner listens on loopback; `maxq serve` keeps the product's 0.0.0.0. */
  host?: string
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`maxq: invalid ${variable}: ${message}`)
  }
}

type Env = Record<string, string | undefined>

export interface Setting {
  name: string
  /** As a reader should see it: a value, `unset`, or how it is derived. */
  default: string
  summary: string
}

/** Every setting loadConfig reads, in the order of `maxq --help` and docs/configuration.md. */
export const SETTINGS: readonly Setting[] = [
  {
    name: 'MAXQ_FLOWS_ROOT',
    default: './examples',
    summary: 'directory of <flow>/flow.sh and <flow>/steps/<name>/step.sh',
  },
  {
    name: 'MAXQ_DATABASE_URL',
    default: 'unset',
    summary: 'PostgreSQL (postgres:// or postgresql://); unset: SQLite',
  },
  {
    name: 'MAXQ_SQLITE_PATH',
    default: DEFAULT_SQLITE_PATH,
    summary: 'SQLite file, used when MAXQ_DATABASE_URL is unset',
  },
  { name: 'MAXQ_PORT', default: '3000', summary: 'HTTP port of the API (0 to 65535; 0: any free port)' },
  { name: 'MAXQ_HOST', default: '0.0.0.0 (maxq start: 127.0.0.1)', summary: 'address the API listens on' },
  {
    name: 'MAXQ_SCHEDULER_INTERVAL_MS',
    default: '200',
    summary: 'tick loop polling interval; wake-ups are immediate',
  },
  { name: 'MAXQ_SCHEDULER_BATCH_SIZE', default: '10', summary: 'most steps and flow calls one tick claims' },
  {
    name: 'MAXQ_MAX_CONCURRENT_STEPS',
    default: '10',
    summary: 'most scripts one tick process supervises at a time',
  },
  {
    name: 'MAXQ_ABORT_GRACE_MS',
    default: String(DEFAULT_ABORT_GRACE_MS),
    summary: 'SIGTERM to SIGKILL on abort and timeout; how long a flow call may outlive its completed run',
  },
  {
    name: 'MAXQ_API_URL',
    default: 'http://127.0.0.1:$MAXQ_PORT/api/v1',
    summary: 'API base scripts get as MAXQ_API, and supervisors report to',
  },
  {
    name: 'MAXQ_LEASE_MS',
    default: '30000',
    summary: 'a claimed attempt with no heartbeat this long is reaped',
  },
  {
    name: 'MAXQ_MAX_LOST_ATTEMPTS',
    default: String(DEFAULT_MAX_LOST_ATTEMPTS),
    summary: 'lost attempts (expired leases) of a step or flow call re-queued before it fails',
  },
  {
    name: 'MAXQ_RETRY_DELAY_SECONDS',
    default: '0',
    summary: "a step's first retry delay when its definition sets no retryDelaySeconds",
  },
  {
    name: 'MAXQ_RETRY_BACKOFF',
    default: 'exponential',
    summary: 'fixed or exponential: retryBackoff of a step whose definition sets none',
  },
  {
    name: 'MAXQ_DATABASE_POOL_SIZE',
    default: String(DEFAULT_POOL_SIZE),
    summary: 'PostgreSQL connections per process (1 to 1000)',
  },
  {
    name: 'MAXQ_SPAWNER',
    default: 'auto',
    summary: 'posix_spawn, child_process, or auto (the addon when it loads)',
  },
  {
    name: 'MAXQ_RUNTIME_DIR',
    default: '<tmpdir>/maxq-<uid>',
    summary: "per-user directory of this host's supervisor registry (mode 0700)",
  },
  {
    name: 'MAXQ_API_TOKEN',
    default: 'unset',
    summary: 'when set, required as Authorization: Bearer on all but /health',
  },
  {
    name: 'MAXQ_PASSTHROUGH_ENV',
    default: 'unset',
    summary: "comma-separated names of the server's variables scripts also get",
  },
  {
    name: 'MAXQ_MAX_BODY_BYTES',
    default: String(DEFAULT_MAX_BODY_BYTES),
    summary: 'largest request body (1024 to 1 GiB)',
  },
  {
    name: 'MAXQ_MAX_FIELDS_BYTES',
    default: String(DEFAULT_MAX_FIELDS_BYTES),
    summary: 'largest fields post (at least MAXQ_MAX_BODY_BYTES)',
  },
  {
    name: 'MAXQ_RETENTION_DAYS',
    default: 'unset (keep every run)',
    summary: 'ticks delete finished runs that ended more than this many days ago (1 to 36500)',
  },
  {
    name: 'MAXQ_NO_WORKER_WARNING_MS',
    default: String(NO_WORKER_WARN_AFTER_MS),
    summary: 'maxq serve warns when runs waited this long and no worker is alive (1000 to 86400000)',
  },
  {
    name: 'MAXQ_METRICS_PUBLIC',
    default: '0',
    summary: '1: GET /metrics needs no token (a Prometheus without one may scrape it)',
  },
  {
    name: 'MAXQ_METRICS_PORT',
    default: 'unset',
    summary: 'maxq tick --watch serves its own GET /metrics on this port (0: any free one)',
  },
  { name: 'LOG_LEVEL', default: 'info', summary: 'debug (adds a line per request), info, warn or error' },
  {
    name: 'LOG_FORMAT',
    default: 'text',
    summary: 'text, or json: one JSON object per line for log shippers',
  },
]

/** The settings as `maxq --help` prints them: one line each, with the default. */
export function settingsHelp(): string {
  const width = Math.max(...SETTINGS.map((setting) => setting.name.length))
  const lines = SETTINGS.map(
    (setting) => `  ${setting.name.padEnd(width)}  ${setting.summary} [${setting.default}]`,
  )
  return ['environment (default in brackets; empty counts as unset):', ...lines].join('\n')
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]
  if (raw === undefined || raw.trim() === '') return fallback
  const value = Number(raw)
  if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
    throw new ConfigError(name, `expected a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`)
  }
  return value
}

/** MAXQ_API_URL if set, else the API on host:port (the port actually bound, when MAXQ_PORT is 0). */
export function apiBaseFrom(env: Env, host: string, port: number): string {
  const explicit = env.MAXQ_API_URL?.trim()
  if (explicit) {
    let url: URL
    try {
      url = new URL(explicit)
    } catch {
      throw new ConfigError('MAXQ_API_URL', `${JSON.stringify(explicit)} is not a URL`)
    }
    const base = url.toString().replace(/\/+$/, '')
    return base.endsWith('/api/v1') ? base : `${base}/api/v1`
  }
  const local = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host
  return `http://${local.includes(':') ? `[${local}]` : local}:${port}/api/v1`
}

export function loadConfig(env: Env = process.env, defaults: ConfigDefaults = {}): Config {
  const flowsRoot = resolve(env.MAXQ_FLOWS_ROOT?.trim() || './examples')
  if (!existsSync(flowsRoot) || !statSync(flowsRoot).isDirectory()) {
    throw new ConfigError('MAXQ_FLOWS_ROOT', `${flowsRoot} is not a directory`)
  }
  const databaseUrl = env.MAXQ_DATABASE_URL?.trim() || undefined
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('MAXQ_DATABASE_URL', 'expected a postgres:// or postgresql:// URL')
  }
  const port = integer(env, 'MAXQ_PORT', 3000, 0, 65535)
  const host = env.MAXQ_HOST?.trim() || defaults.host || '0.0.0.0'
  const logLevel = (env.LOG_LEVEL?.trim().toLowerCase() || 'info') as Config['logLevel']
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    throw new ConfigError(
      'LOG_LEVEL',
      `expected debug, info, warn or error, got ${JSON.stringify(env.LOG_LEVEL)}`,
    )
  }
  const logFormat = (env.LOG_FORMAT?.trim().toLowerCase() || 'text') as Config['logFormat']
  if (logFormat !== 'text' && logFormat !== 'json') {
    throw new ConfigError('LOG_FORMAT', `expected text or json, got ${JSON.stringify(env.LOG_FORMAT)}`)
  }
  return {
    flowsRoot,
    databaseUrl,
    sqlitePath: sqlitePath(env.MAXQ_SQLITE_PATH?.trim() || DEFAULT_SQLITE_PATH),
    databasePoolSize: integer(env, 'MAXQ_DATABASE_POOL_SIZE', DEFAULT_POOL_SIZE, 1, 1000),
    port,
    host,
    intervalMs: integer(env, 'MAXQ_SCHEDULER_INTERVAL_MS', 200, 1, 3_600_000),
    batchSize: integer(env, 'MAXQ_SCHEDULER_BATCH_SIZE', 10, 1, 10_000),
    maxConcurrentSteps: integer(env, 'MAXQ_MAX_CONCURRENT_STEPS', 10, 1, 100_000),
    abortGraceMs: integer(env, 'MAXQ_ABORT_GRACE_MS', DEFAULT_ABORT_GRACE_MS, 0, 3_600_000),
    leaseMs: integer(env, 'MAXQ_LEASE_MS', 30_000, 1_000, 86_400_000),
    maxLostAttempts: integer(env, 'MAXQ_MAX_LOST_ATTEMPTS', DEFAULT_MAX_LOST_ATTEMPTS, 0, 1_000),
    retryDefaults: retryDefaults(env),
    apiBase: apiBaseFrom(env, host, port),
    logLevel,
    logFormat,
    workerId: `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
    spawner: spawner(env),
    runtimeDir: runtimeDir(env),
    apiToken: apiToken(env),
    passthroughEnv: passthroughEnv(env),
    ...bodyLimits(env),
    retentionDays: env.MAXQ_RETENTION_DAYS?.trim()
      ? integer(env, 'MAXQ_RETENTION_DAYS', 0, 1, 36_500)
      : undefined,
    metricsPublic: flag(env, 'MAXQ_METRICS_PUBLIC'),
    metricsPort: env.MAXQ_METRICS_PORT?.trim() ? integer(env, 'MAXQ_METRICS_PORT', 0, 0, 65_535) : undefined,
    noWorkerWarningMs: integer(env, 'MAXQ_NO_WORKER_WARNING_MS', NO_WORKER_WARN_AFTER_MS, 1_000, 86_400_000),
  }
}

/** 1/true/yes or 0/false/no (any case); unset or empty is false. */
function flag(env: Env, name: string): boolean {
  const value = env[name]?.trim().toLowerCase() ?? ''
  if (['1', 'true', 'yes'].includes(value)) return true
  if (['', '0', 'false', 'no'].includes(value)) return false
  throw new ConfigError(name, 'use 1 or 0')
}

function retryDefaults(env: Env): RetryPolicy {
  const backoff = env.MAXQ_RETRY_BACKOFF?.trim().toLowerCase() || 'exponential'
  if (!(RETRY_BACKOFFS as readonly string[]).includes(backoff)) {
    throw new ConfigError(
      'MAXQ_RETRY_BACKOFF',
      `expected fixed or exponential, got ${JSON.stringify(env.MAXQ_RETRY_BACKOFF)}`,
    )
  }
  const seconds = integer(env, 'MAXQ_RETRY_DELAY_SECONDS', 0, 0, MAX_RETRY_DELAY_SECONDS)
  return { retryDelayMs: seconds * 1000, retryBackoff: backoff as RetryBackoff }
}

/**
 * Per user, so that one user's workers never read or signal another's; every maxq process of the
 * user on this host must use the same one, or they cannot stop each other's orphans.
 */
function runtimeDir(env: Env): string {
  const given = env.MAXQ_RUNTIME_DIR?.trim()
  return given ? resolve(given) : join(tmpdir(), `maxq-${process.getuid?.() ?? 'user'}`)
}

/** A file path made absolute; SQLite's `:memory:` stays what it is. */
function sqlitePath(given: string): string {
  return given === ':memory:' ? given : resolve(given)
}

const MIN_BODY_BYTES = 1024
const MAX_BODY_BYTES = 1024 * 1024 * 1024

function bodyLimits(env: Env): Pick<Config, 'maxBodyBytes' | 'maxFieldsBytes'> {
  const maxBodyBytes = integer(
    env,
    'MAXQ_MAX_BODY_BYTES',
    DEFAULT_MAX_BODY_BYTES,
    MIN_BODY_BYTES,
    MAX_BODY_BYTES,
  )
  const maxFieldsBytes = integer(
    env,
    'MAXQ_MAX_FIELDS_BYTES',
    Math.max(DEFAULT_MAX_FIELDS_BYTES, maxBodyBytes),
    MIN_BODY_BYTES,
    MAX_BODY_BYTES,
  )
  // A fields post is a body too: a smaller limit for it would be a surprise, not a setting.
  if (maxFieldsBytes < maxBodyBytes) {
    throw new ConfigError(
      'MAXQ_MAX_FIELDS_BYTES',
      `${maxFieldsBytes} is below MAXQ_MAX_BODY_BYTES (${maxBodyBytes})`,
    )
  }
  return { maxBodyBytes, maxFieldsBytes }
}

function apiToken(env: Env): string | undefined {
  const token = env.MAXQ_API_TOKEN?.trim()
  if (!token) return undefined
  // It travels as `Authorization: Bearer <token>`, one word; and it must not read as a run token.
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new ConfigError('MAXQ_API_TOKEN', 'use printable ASCII without spaces (e.g. openssl rand -hex 32)')
  }
  if (isRunToken(token)) throw new ConfigError('MAXQ_API_TOKEN', 'must not start with "maxq-run."')
  return token
}

function passthroughEnv(env: Env): string[] {
  const names = (env.MAXQ_PASSTHROUGH_ENV ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '')
  for (const name of names) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new ConfigError('MAXQ_PASSTHROUGH_ENV', `${JSON.stringify(name)} is not a variable name`)
    }
    // MaxQ's own configuration (a database URL, the API token) never reaches a script.
    if (name.startsWith('MAXQ_')) {
      throw new ConfigError('MAXQ_PASSTHROUGH_ENV', `${name}: MAXQ_* variables cannot be passed to scripts`)
    }
  }
  return names
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|\[::1\]|localhost)$/i

/** Whether only this machine can connect to an address the server listens on. */
export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host)
}

/**
 * The one line a server says at start when anyone on the network can use it: who can reach it,
 * what they can do, and how to close it. Null when it listens on loopback or needs a token.
 */
export function exposureWarning(config: Pick<Config, 'host' | 'port' | 'apiToken'>): string | null {
  if (config.apiToken !== undefined || isLoopback(config.host)) return null
  return (
    `listening on ${config.host}:${config.port} without MAXQ_API_TOKEN: anyone who can reach this port ` +
    `can start this host's flows and read, change and abort every run; set MAXQ_API_TOKEN ` +
    `(e.g. MAXQ_API_TOKEN=$(openssl rand -hex 32)) to require "Authorization: Bearer <token>", ` +
    `or MAXQ_HOST=127.0.0.1 to listen on this machine only`
  )
}

function spawner(env: Env): Spawner {
  const choice = env.MAXQ_SPAWNER?.trim() || 'auto'
  if (!(SPAWNER_CHOICES as readonly string[]).includes(choice)) {
    throw new ConfigError('MAXQ_SPAWNER', `expected ${SPAWNER_CHOICES.join(', ')}`)
  }
  try {
    return resolveSpawner(choice as SpawnerChoice)
  } catch (error) {
    throw new ConfigError('MAXQ_SPAWNER', error instanceof Error ? error.message : String(error))
  }
}

/** What db/open-store.ts and db/open-dialect.ts need of the configuration. */
/** What openStore needs: where the store lives, and how long a run's end waits for its flow call. */
export function databaseConfig(config: Config): DatabaseConfig & StoreOptions {
  return {
    databaseUrl: config.databaseUrl,
    sqlitePath: config.sqlitePath,
    poolSize: config.databasePoolSize,
    runEndGraceMs: config.abortGraceMs,
  }
}

/** Where the store lives, for messages: never prints a password. */
export function describeDatabase(config: Config): string {
  if (config.databaseUrl === undefined) return `SQLite ${config.sqlitePath}`
  const url = new URL(config.databaseUrl)
  return `PostgreSQL ${url.hostname}${url.port ? `:${url.port}` : ''}${url.pathname}`
}
