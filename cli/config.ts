// Configuration comes from the environment only. A bad value stops start-up with one line that
// names the variable, before anything is opened or started.

import { existsSync, statSync } from 'node:fs'
import { hostname } from 'node:os'
import { resolve } from 'node:path'
import { randomBytes } from 'node:crypto'
import { DEFAULT_SQLITE_PATH } from '../db/open-dialect.js'
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_FIELDS_BYTES } from '../handlers/app-env.js'
import { isRunToken } from '../security/run-token.js'
import { DEFAULT_ABORT_GRACE_MS } from '../runtime/limits.js'
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
  port: number
  host: string
  intervalMs: number
  batchSize: number
  maxConcurrentSteps: number
  abortGraceMs: number
  leaseMs: number
  /** What scripts get as MAXQ_API, and where supervisors report: always ends in /api/v1. */
  apiBase: string
  logLevel: 'debug' | 'info' | 'warn' | 'error'
  workerId: string
  /** How scripts are started (MAXQ_SPAWNER resolved: auto picks posix_spawn when the addon loads). */
  spawner: Spawner
  /** MAXQ_API_TOKEN: required as `Authorization: Bearer` on every route but /health when set. */
  apiToken: string | undefined
  /** MAXQ_PASSTHROUGH_ENV: names of the server's variables that scripts also get. */
  passthroughEnv: string[]
  /** MAXQ_MAX_BODY_BYTES: largest request body (413 above it). */
  maxBodyBytes: number
  /** MAXQ_MAX_FIELDS_BYTES: largest fields post, at least maxBodyBytes. */
  maxFieldsBytes: number
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

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]
  if (raw === undefined || raw.trim() === '') return fallback
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `${JSON.stringify(raw)} is not a whole number`)
  const value = Number(raw)
  if (value < min || value > max) throw new ConfigError(name, `${value} is outside ${min}..${max}`)
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
    throw new ConfigError('LOG_LEVEL', 'expected debug, info, warn or error')
  }
  return {
    flowsRoot,
    databaseUrl,
    sqlitePath: sqlitePath(env.MAXQ_SQLITE_PATH?.trim() || DEFAULT_SQLITE_PATH),
    port,
    host,
    intervalMs: integer(env, 'MAXQ_SCHEDULER_INTERVAL_MS', 200, 1, 3_600_000),
    batchSize: integer(env, 'MAXQ_SCHEDULER_BATCH_SIZE', 10, 1, 10_000),
    maxConcurrentSteps: integer(env, 'MAXQ_MAX_CONCURRENT_STEPS', 10, 1, 100_000),
    abortGraceMs: integer(env, 'MAXQ_ABORT_GRACE_MS', DEFAULT_ABORT_GRACE_MS, 0, 3_600_000),
    leaseMs: integer(env, 'MAXQ_LEASE_MS', 30_000, 1_000, 86_400_000),
    apiBase: apiBaseFrom(env, host, port),
    logLevel,
    workerId: `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
    spawner: spawner(env),
    apiToken: apiToken(env),
    passthroughEnv: passthroughEnv(env),
    ...bodyLimits(env),
  }
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

/** Where the store lives, for messages: never prints a password. */
export function describeDatabase(config: Config): string {
  if (config.databaseUrl === undefined) return `SQLite ${config.sqlitePath}`
  const url = new URL(config.databaseUrl)
  return `PostgreSQL ${url.hostname}${url.port ? `:${url.port}` : ''}${url.pathname}`
}
