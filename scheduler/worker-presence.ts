// A worker says it is alive: its row in `workers` (db/queries/workers.ts), which GET /health lists
// and `waitingFor` reads (no live worker; every live worker's slots full). A long-running worker
// upserts it at start and every WORKER_HEARTBEAT_MS after, and deletes it on a clean stop; a row
// not seen within WORKER_LIVE_HEARTBEATS (3) heartbeats is a dead worker's. Every tenth beat also
// deletes dead workers' rows. Idle, that is 6 commits a minute, against the loop's 300 index-only
// reads (docs/performance.md).

import { hostname } from 'node:os'
import type { WorkerStore } from '../db/store.js'
import type { WorkerKind, WorkerRecord } from '../db/types.js'

/** How often a long-running worker writes its row: live while seen within 3× this (30 s). */
export const WORKER_HEARTBEAT_MS = 10_000
/**
 * What a one-shot `maxq tick` declares as its heartbeat: cron's finest period is a minute, so a
 * tick run from cron (or a systemd timer, every 10 s) keeps a worker live between two runs.
 */
export const ONE_SHOT_TICK_HEARTBEAT_MS = 60_000
const CLEAN_EVERY_BEATS = 10

export interface PresenceOptions {
  store: WorkerStore
  workerId: string
  kind: WorkerKind
  limit: number
  running: () => number
  heartbeatMs?: number
  onError: (error: unknown) => void
}

export function workerRecord(
  opts: Omit<PresenceOptions, 'store' | 'onError' | 'running'> & { running: number },
  startedAt: number,
  now: number,
): WorkerRecord {
  return {
    id: opts.workerId,
    host: hostname(),
    pid: process.pid,
    kind: opts.kind,
    startedAt,
    seenAt: now,
    running: opts.running,
    limit: opts.limit,
    heartbeatMs: opts.heartbeatMs ?? WORKER_HEARTBEAT_MS,
  }
}

export interface Presence {
  /** Stops the heartbeat and deletes the row: the worker is gone, not late. */
  stop(): Promise<void>
}

export async function startPresence(opts: PresenceOptions): Promise<Presence> {
  const startedAt = Date.now()
  const heartbeatMs = opts.heartbeatMs ?? WORKER_HEARTBEAT_MS
  const beat = (): Promise<void> =>
    opts.store.recordWorker(workerRecord({ ...opts, running: opts.running() }, startedAt, Date.now()))
  await beat()
  await opts.store.deleteExpiredWorkers(Date.now())
  let beats = 0
  let pending: Promise<void> = Promise.resolve()
  const timer = setInterval(() => {
    beats++
    pending = (async () => {
      await beat()
      if (beats % CLEAN_EVERY_BEATS === 0) await opts.store.deleteExpiredWorkers(Date.now())
    })().catch(opts.onError)
  }, heartbeatMs)
  timer.unref()
  return {
    async stop() {
      clearInterval(timer)
      await pending
      await opts.store.removeWorker(opts.workerId).catch(opts.onError)
    },
  }
}

/**
 * A one-shot tick: seen now, with the steps running in the database; dead rows go too. Each
 * `maxq tick` process has its own workerId, so the row is the host's (`tick@<host>`): a tick from
 * cron every minute is one live worker, not three.
 */
export async function recordOneShotTick(
  store: WorkerStore,
  opts: { limit: number; running: number },
  now: number,
): Promise<void> {
  const workerId = `tick@${hostname()}`
  await store.recordWorker(
    workerRecord({ ...opts, workerId, kind: 'tick', heartbeatMs: ONE_SHOT_TICK_HEARTBEAT_MS }, now, now),
  )
  await store.deleteExpiredWorkers(now)
}
